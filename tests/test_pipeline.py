"""The delivery pipeline with real Redis, real RQ workers, a real SMTP server and the real database."""
import signal
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from portal.delivery import queueing
from portal.delivery.sweep import queue_due_retries, run_sweep
from portal.extensions import db
from portal.models import AttendanceSession, EmailNotification, GenerationStatus
from portal.services.jwt_service import JWTTokenService
from portal.services.notification_generation_service import NotificationGenerationService
from tests.factories import create_session, emails_of, make_students, statuses
from tests.smtp_servers import ScriptedHandler, SMTPServer
from tests.support import end_process, env_for, point_mail_at, queue_down, start_worker, wait_for

pytestmark = pytest.mark.integration  # real Redis, a real RQ worker and SMTP servers


def test_session_to_delivered_emails_in_batches(app, course, queue, run_worker, smtp_server):
    app.config["MAIL_BATCH_SIZE"] = 50
    students = make_students(course.program, 120)
    session, queued = create_session(course)
    assert queued is True
    assert session.generation_status == GenerationStatus.QUEUED
    assert queue.job_ids == [f"generate-session-{session.id}"]

    run_worker()

    assert statuses(session.id) == {"sent": 120}
    assert sorted(smtp_server.handler.recipients) == emails_of(students)
    assert smtp_server.handler.connections == 1  # one connection carried all three batches
    rows = db.session.scalars(select(EmailNotification)).all()
    assert all(r.sent_at is not None and r.attempts == 1 and r.last_error is None for r in rows)
    db.session.refresh(session)
    assert session.generation_status == GenerationStatus.DONE


def test_email_links_carry_the_token_and_the_base_url(app, course, run_worker, smtp_server):
    make_students(course.program, 1)
    session, _ = create_session(course)
    run_worker()
    row = db.session.scalars(select(EmailNotification)).one()
    from tests.smtp_servers import parts

    for body in parts(smtp_server.handler.received[0].message).values():
        assert f"https://portal.example.edu/attendance?token={row.token}" in body
    assert smtp_server.handler.received[0].message["Subject"] == "Attendance Session Created: Data Structures"


def test_worker_py_burst_drains_the_queue(app, course, smtp_server, tmp_path):
    students = make_students(course.program, 30)
    session, _ = create_session(course)
    worker = start_worker(env_for(app), tmp_path / "worker.log")
    assert worker.wait(timeout=60) == 0, (tmp_path / "worker.log").read_text()
    assert statuses(session.id) == {"sent": 30}
    assert sorted(smtp_server.handler.recipients) == emails_of(students)


def test_generation_twice_creates_nothing_new_and_sends_nothing_twice(app, course, queue, run_worker, smtp_server):
    students = make_students(course.program, 20)
    session, _ = create_session(course)
    assert queueing.enqueue_generation(session.id) is True  # already queued: not queued again
    assert queue.count == 1
    run_worker()
    queueing.enqueue_generation(session.id)  # finished before: runs again, finds nothing to do
    run_worker()
    assert statuses(session.id) == {"sent": 20}
    assert Counter(smtp_server.handler.recipients) == Counter(emails_of(students))


def test_send_jobs_have_deterministic_ids(app, course, queue):
    app.config["MAIL_BATCH_SIZE"] = 10
    make_students(course.program, 25)
    session, _ = create_session(course)
    NotificationGenerationService(JWTTokenService.from_config(app.config)).generate_notifications_for_session(session.id)
    ids = list(db.session.scalars(select(EmailNotification.id)))
    queue.empty()
    queueing.enqueue_send_batches(ids)
    first = sorted(queue.job_ids)
    queueing.enqueue_send_batches(list(reversed(ids)))
    assert sorted(queue.job_ids) == first
    assert len(first) == 3


def test_two_workers_on_one_queue_never_send_a_notification_twice(app, course, queue, tmp_path):
    app.config["MAIL_BATCH_SIZE"] = 10
    with SMTPServer(ScriptedHandler(reply_delay=0.01)) as smtp:
        point_mail_at(app, smtp.port)
        students = make_students(course.program, 200)
        session, _ = create_session(course)
        NotificationGenerationService(JWTTokenService.from_config(app.config)).generate_notifications_for_session(
            session.id)
        ids = list(db.session.scalars(select(EmailNotification.id)))
        # Every row is offered to both workers by two different jobs, so claims are really contended.
        queue.empty()
        queueing.enqueue_send_batches(ids)
        queueing.enqueue_send_batches(list(ids), suffix="-duplicate")
        workers = [start_worker(env_for(app), tmp_path / f"worker{n}.log") for n in range(2)]
        for worker in workers:
            assert worker.wait(timeout=120) == 0
        received = Counter(smtp.handler.recipients)
    assert statuses(session.id) == {"sent": 200}
    assert received == Counter(emails_of(students))
    assert max(received.values()) == 1
    logs = [(tmp_path / f"worker{n}.log").read_text() for n in range(2)]
    assert all("send_notifications" in log for log in logs), "both workers should have taken jobs"


def test_a_worker_killed_mid_batch_leaves_nothing_stuck_after_the_sweep(app, course, tmp_path, run_worker):
    app.config["MAIL_BATCH_SIZE"] = 10
    with SMTPServer(ScriptedHandler(stall_on={4}, stall_seconds=60)) as smtp:
        point_mail_at(app, smtp.port)
        app.config["MAIL_TIMEOUT_SECONDS"] = 30
        students = make_students(course.program, 10)
        session, _ = create_session(course)
        worker = start_worker(env_for(app), tmp_path / "worker.log", burst=False)
        try:
            wait_for(lambda: smtp.handler.data_count >= 4, what="the worker to reach the 4th email")
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
        stuck = statuses(session.id)
        assert stuck["sent"] == 3 and stuck["sending"] == 7  # outcomes were recorded as they happened

        app.config["SENDING_TIMEOUT_SECONDS"] = 0
        app.config["MAIL_TIMEOUT_SECONDS"] = 2
        summary = run_sweep()
        assert summary["recovered_sending"] == 7
        run_worker()
        assert statuses(session.id) == {"sent": 10}
        received = Counter(smtp.handler.recipients)
    assert set(received) == set(emails_of(students))
    assert sum(received.values()) == 10  # the stalled message never got its 250, so nothing was doubled


def test_queue_down_at_session_creation_loses_nothing(app, course, run_worker, smtp_server):
    students = make_students(course.program, 5)
    with queue_down(app):
        session, queued = create_session(course)
    assert queued is False
    assert db.session.get(AttendanceSession, session.id).generation_status == GenerationStatus.WAITING

    assert run_sweep()["sessions_checked"] == 1
    run_worker()
    assert statuses(session.id) == {"sent": 5}
    assert sorted(smtp_server.handler.recipients) == emails_of(students)
    assert run_sweep()["sessions_checked"] == 0


def test_lost_send_jobs_are_requeued_by_the_sweep(app, course, queue, run_worker, smtp_server):
    make_students(course.program, 7)
    session, _ = create_session(course)
    NotificationGenerationService(JWTTokenService.from_config(app.config)).generate_notifications_for_session(session.id)
    queue.connection.flushdb()  # the jobs are gone (Redis restarted without persistence)
    app.config["PENDING_STALE_SECONDS"] = 0
    assert run_sweep()["requeued_pending"] == 7
    run_worker()
    assert statuses(session.id) == {"sent": 7}


def test_refused_recipients_fail_and_a_retry_resends_exactly_those(app, course, run_worker, smtp_server):
    smtp_server.handler.refuse = ("refuse",)
    fine = make_students(course.program, 3)
    refused = make_students(course.program, 2, prefix="refuse")
    session, _ = create_session(course)
    run_worker()
    assert statuses(session.id) == {"sent": 3, "failed": 2}
    failed = db.session.scalars(select(EmailNotification).where(EmailNotification.status == "failed")).all()
    assert all("550" in row.last_error and row.attempts == 1 for row in failed)

    smtp_server.handler.refuse = ()
    service = NotificationGenerationService(JWTTokenService.from_config(app.config),
                                            dispatch=queueing.enqueue_send_batches)
    summary = service.retry_failed_notifications([row.id for row in failed])
    assert summary == {"retried": 2, "skipped": 0, "errors": [], "queued": True}
    run_worker()
    assert statuses(session.id) == {"sent": 5}
    # The refused pair arrives once (on the retry); the others are not sent again.
    assert Counter(smtp_server.handler.recipients) == Counter(emails_of(fine) + emails_of(refused))


def test_transient_failures_are_retried_until_the_link_would_expire(app, course, run_worker, smtp_server):
    smtp_server.handler.tempfail = ("busy",)
    make_students(course.program, 2)
    busy = make_students(course.program, 1, prefix="busy")
    session, _ = create_session(course)
    run_worker()  # attempt 1, then attempt 2 at once (delay 0); attempt 3 waits 1 s
    assert statuses(session.id) == {"sent": 2, "pending": 1}
    row = db.session.scalars(select(EmailNotification).where(EmailNotification.status == "pending")).one()
    assert row.attempts == 2 and row.next_attempt_at is not None
    assert "will try again" in row.last_error

    # The link now expires before a 4th try could come (a second after the 3rd): the 3rd is the last,
    # however long after its due time it is made (up to the expiry itself).
    row.token_expires_at = row.next_attempt_at + timedelta(milliseconds=950)
    db.session.commit()
    wait_for(lambda: queue_due_retries() == 1, timeout=5, what="the retry to become due")
    run_worker()
    row = db.session.get(EmailNotification, row.id)
    assert row.status == "failed" and row.attempts == 3
    assert "Gave up after 3 attempts" in row.last_error and "451" in row.last_error
    assert smtp_server.handler.tempfailed[busy[0].user.email] == 3


def test_a_transient_failure_that_clears_is_delivered_on_a_later_attempt(app, course, run_worker, smtp_server):
    smtp_server.handler.tempfail, smtp_server.handler.tempfail_times = ("busy",), 1
    busy = make_students(course.program, 1, prefix="busy")
    session, _ = create_session(course)
    run_worker()
    row = db.session.scalars(select(EmailNotification)).one()
    assert row.status == "sent" and row.attempts == 2
    assert smtp_server.handler.recipients == emails_of(busy)


def test_retry_waits_for_its_backoff(app, course, queue, run_worker, smtp_server):
    app.config["MAIL_RETRY_DELAYS"] = [300, 600]
    smtp_server.handler.tempfail = ("busy",)
    make_students(course.program, 1, prefix="busy")
    create_session(course)
    run_worker()
    row = db.session.scalars(select(EmailNotification)).one()
    assert row.status == "pending" and row.attempts == 1
    assert "will try again" in row.last_error
    assert row.next_attempt_at > datetime.now(timezone.utc) + timedelta(seconds=250)
    assert queue.count == 0  # the retry waits in the database, not in a delayed job
    # Neither the retry poll nor the sweep jumps the queue: the row is not yet due.
    assert queue_due_retries() == 0
    app.config["PENDING_STALE_SECONDS"] = 0
    assert run_sweep()["requeued_pending"] == 0
    assert queue_due_retries(row.next_attempt_at) == 1  # when it is due, it is queued
    assert queue.count == 1


def test_an_already_expired_link_is_not_sent(app, course, run_worker, smtp_server):
    make_students(course.program, 2)
    session, _ = create_session(course)
    NotificationGenerationService(JWTTokenService.from_config(app.config)).generate_notifications_for_session(session.id)
    for row in db.session.scalars(select(EmailNotification)):
        row.token_expires_at = datetime.now(timezone.utc) - timedelta(minutes=1)
    db.session.commit()
    run_worker()
    rows = db.session.scalars(select(EmailNotification)).all()
    assert {r.status for r in rows} == {"failed"}
    assert all("expired" in r.last_error for r in rows)
    assert smtp_server.handler.received == []


def test_a_session_whose_window_closed_before_generation_is_marked_failed(app, course, run_worker):
    make_students(course.program, 2)
    session, _ = create_session(course)
    session.starts_at = datetime.now(timezone.utc) - timedelta(hours=3)
    session.ends_at = session.starts_at + timedelta(hours=1)  # its links expired 1 h 45 min ago
    db.session.commit()
    run_worker()
    db.session.refresh(session)
    assert session.generation_status == GenerationStatus.FAILED
    assert "window had closed" in session.generation_error
    assert run_sweep()["sessions_checked"] == 0


def test_worker_py_runs_the_periodic_sweep(app, course, smtp_server, tmp_path):
    students = make_students(course.program, 3)
    with queue_down(app):
        session, queued = create_session(course)
    assert queued is False
    worker = start_worker({**env_for(app), "SWEEP_INTERVAL_SECONDS": "1"}, tmp_path / "worker.log", burst=False)
    try:
        wait_for(lambda: len(smtp_server.handler.recipients) == 3, what="the sweep to deliver the session")
    finally:
        end_process(worker)
    assert sorted(smtp_server.handler.recipients) == emails_of(students)
    assert statuses(session.id) == {"sent": 3}


def test_the_email_mentions_the_distance_only_when_the_session_has_a_location(app, course, run_worker, smtp_server):
    from tests.factories import make_session
    from tests.smtp_servers import parts

    make_students(course.program, 1)
    queueing.enqueue_generation(make_session(course, latitude=1.0, longitude=2.0).id)
    run_worker()
    queueing.enqueue_generation(make_session(course).id)
    run_worker()
    with_location, without = (parts(r.message) for r in smtp_server.handler.received)
    for body in with_location.values():
        assert "within 30 meters of the session location" in body
    for body in without.values():
        assert "meters" not in body


def test_a_batch_split_over_two_connections_sends_each_email_once(app, course, run_worker, smtp_server):
    app.config["MAIL_CONNECTIONS"] = 2
    smtp_server.handler.refuse = ("refuse",)
    fine = make_students(course.program, 29)
    refused = make_students(course.program, 1, prefix="refuse")
    session, _ = create_session(course)
    run_worker()
    assert statuses(session.id) == {"sent": 29, "failed": 1}
    assert smtp_server.handler.connections == 2
    assert Counter(smtp_server.handler.recipients) == Counter(emails_of(fine))
    failed = db.session.scalars(select(EmailNotification).where(EmailNotification.status == "failed")).one()
    assert failed.student_profile_id == refused[0].id and "550" in failed.last_error
