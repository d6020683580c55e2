"""The morning rush: every send job sends the most urgent emails waiting, whoever queued them
(the class that starts first, ties to the session created first), so the order of creation
never decides who waits. Real RQ workers, a real relay, SQLite and PostgreSQL."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.delivery import queueing
from portal.extensions import db
from portal.models import EmailNotification
from portal.services.jwt_service import JWTTokenService
from portal.services.notification_generation_service import NotificationGenerationService
from tests.factories import make_session, make_students, statuses

pytestmark = pytest.mark.integration


def sent_between(session) -> tuple:
    """When the session's first and last email were accepted."""
    return db.session.execute(select(func.min(EmailNotification.sent_at), func.max(EmailNotification.sent_at))
                              .where(EmailNotification.session_id == session.id)).one()


def queued(session):
    queueing.enqueue_generation(session.id, session.starts_at)
    return session


def test_classes_created_in_reverse_start_order_are_sent_in_start_order(app, course, run_worker):
    app.config.update(MAIL_BATCH_SIZE=4)
    make_students(course.program, 4)
    late, middle, first = (queued(make_session(course, starts_in=timedelta(minutes=minutes)))
                           for minutes in (50, 30, 10))  # created latest-first
    run_worker()
    assert all(statuses(session.id) == {"sent": 4} for session in (late, middle, first))
    assert sent_between(first)[1] < sent_between(middle)[0]
    assert sent_between(middle)[1] < sent_between(late)[0]


def test_a_bulk_retry_and_next_weeks_class_give_way_to_a_class_starting_now(app, course, run_worker, smtp_server):
    app.config.update(MAIL_BATCH_SIZE=3)
    make_students(course.program, 3)
    under_way = make_session(course, starts_in=timedelta(minutes=-30))  # its links still work
    NotificationGenerationService(JWTTokenService.from_config(app.config)).generate_notifications_for_session(
        under_way.id)
    db.session.execute(EmailNotification.__table__.update().values(status="failed", last_error="550 5.1.1"))
    db.session.commit()
    retry = NotificationGenerationService(JWTTokenService.from_config(app.config),
                                          dispatch=lambda ids: queueing.enqueue_send_batches(ids, bulk=True))
    assert retry.retry_failed_notifications(list(db.session.scalars(select(EmailNotification.id))))["retried"] == 3
    next_week = queued(make_session(course, starts_in=timedelta(days=7)))
    starting_now = queued(make_session(course, starts_in=timedelta(minutes=2)))  # created last of all
    run_worker()
    assert all(statuses(session.id) == {"sent": 3} for session in (under_way, next_week, starting_now))
    assert sent_between(starting_now)[1] < sent_between(under_way)[0]  # the retry gave way
    assert sent_between(under_way)[1] < sent_between(next_week)[0]  # and went before next week's class


def test_at_a_paced_relay_the_earlier_class_finishes_first_whatever_the_creation_order(app, course, run_worker):
    app.config.update(MAIL_BATCH_SIZE=5, MAIL_CONNECTIONS=2, MAIL_RATE_LIMIT="5/second")
    make_students(course.program, 10)
    half_past_nine = queued(make_session(course, starts_in=timedelta(minutes=90)))
    eight = queued(make_session(course, starts_in=timedelta(minutes=5)))
    run_worker()
    assert statuses() == {"sent": 20}
    eight_done = sent_between(eight)[1]
    assert eight_done < sent_between(half_past_nine)[1]
    ahead = db.session.scalar(select(func.count()).where(EmailNotification.session_id == half_past_nine.id,
                                                         EmailNotification.sent_at < eight_done))
    assert ahead <= 2  # at most the messages in flight on the other connection


def test_a_job_under_way_takes_a_class_created_meanwhile_before_its_own_later_emails(app, course, tmp_path):
    """A job sending a later class claims a few emails at a time, the most urgent first: a class
    starting sooner, whose emails appear while it runs, goes next, not after the whole batch."""
    from tests.smtp_servers import ScriptedHandler, SMTPServer
    from tests.support import point_mail_at, running_worker, wait_for

    app.config.update(MAIL_BATCH_SIZE=50, MAIL_CONNECTIONS=1)
    with SMTPServer(ScriptedHandler(latency=0.04)) as relay:  # about 6 emails a second
        point_mail_at(app, relay.port)
        make_students(course.program, 30)
        later = queued(make_session(course, starts_in=timedelta(minutes=60)))
        with running_worker(app, tmp_path / "worker.log"):
            wait_for(lambda: len(relay.handler.received) >= 3, timeout=20, what="the later class's first emails")
            sooner = make_session(course, starts_in=timedelta(minutes=5))
            # Generated as its generation job would (here, while the only worker is busy), its job queued
            # behind the one under way.
            NotificationGenerationService(JWTTokenService.from_config(app.config)).generate_notifications_for_session(
                sooner.id)
            queueing.enqueue_send_batches(list(db.session.scalars(select(EmailNotification.id).where(
                EmailNotification.session_id == sooner.id))), starts_at=sooner.starts_at)
            wait_for(lambda: statuses(later.id) == {"sent": 30} and statuses(sooner.id) == {"sent": 30},
                     timeout=60, what="both classes")
    db.session.expire_all()
    assert sent_between(sooner)[1] < sent_between(later)[1]
    later_after_sooner = db.session.scalar(select(func.count()).where(
        EmailNotification.session_id == later.id, EmailNotification.sent_at > sent_between(sooner)[1]))
    assert later_after_sooner >= 10  # the later class's rest waited for the sooner one


def test_the_time_given_before_saving_is_within_a_fifth_of_the_measured_finish_at_a_paced_relay(
        app, course, smtp_server, tmp_path):
    """The lecturer reads when the last email will leave, saves, and it leaves then: a class ahead
    of it and its own emails, at a relay limited to 20 a second, two real worker processes."""
    from rq import Worker

    from portal.delivery.backlog import forecast
    from portal.delivery.queueing import get_redis
    from tests.support import running_worker, wait_for

    app.config.update(MAIL_RATE_LIMIT="20/second", MAIL_CONNECTIONS=4, MAIL_BATCH_SIZE=50)
    make_students(course.program, 120)
    with running_worker(app, tmp_path / "one.log"), running_worker(app, tmp_path / "two.log"):
        wait_for(lambda: len(Worker.all(connection=get_redis())) == 2, timeout=30, what="two workers ready")
        earlier = queued(make_session(course, starts_in=timedelta(minutes=30)))
        later = make_session(course, starts_in=timedelta(minutes=60))
        expected = forecast(later.starts_at, None, 120, session_id=later.id)
        assert expected.ahead == 120 and not expected.late
        started = expected.send_at
        queued(later)
        wait_for(lambda: statuses(earlier.id) == {"sent": 120} and statuses(later.id) == {"sent": 120},
                 timeout=60, what="both classes")
    db.session.expire_all()
    measured = (sent_between(later)[1] - started).total_seconds()
    predicted = (expected.done_by - started).total_seconds()  # 240 emails at 20 a second: 12 s
    assert predicted == pytest.approx(12.0, abs=0.1)
    assert abs(measured - predicted) <= 0.2 * measured, (measured, predicted)
