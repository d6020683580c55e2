"""Delivery through relays that behave like real ones: slow, capped, throttling, asking
for a login, greylisting, with or without SMTPUTF8. Real aiosmtpd servers, real Redis,
real RQ workers (in-process and `python worker.py`), the real database."""
import email
import email.policy
import signal
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from portal.delivery import pause
from portal.delivery.pacing import RateLimit, parse_rate
from portal.delivery.relays import Relay
from portal.extensions import db
from portal.models import AuditEvent, DeliveryAttempt, EmailNotification, Role
from tests.factories import create_session, emails_of, make_session, make_staff, make_students, statuses
from tests.smtp_servers import ScriptedHandler, SMTPServer
from tests.support import burst_workers_over_queued_jobs, env_for, point_mail_at, running_worker, start_worker, wait_for

pytestmark = pytest.mark.integration  # relays that misbehave (aiosmtpd), real Redis and workers


def relay(app, handler=None, **options) -> SMTPServer:
    server = SMTPServer(handler or ScriptedHandler(), **options)
    point_mail_at(app, server.port)
    return server


def use_login(app, user="portal", password="s3cret-pass") -> None:
    app.config["MAIL_USERNAME"], app.config["MAIL_PASSWORD"] = user, password
    mail = app.extensions["mail"]
    mail.username, mail.password = user, password


def history(notification_id: int) -> list[tuple[str, int | None]]:
    query = select(DeliveryAttempt.outcome, DeliveryAttempt.smtp_code).where(
        DeliveryAttempt.notification_id == notification_id).order_by(DeliveryAttempt.id)
    return [tuple(row) for row in db.session.execute(query)]


def test_one_worker_keeps_many_connections_busy_and_reuses_them(app, course, run_worker):
    app.config.update(MAIL_CONNECTIONS=8, MAIL_BATCH_SIZE=50)
    with relay(app, ScriptedHandler(latency=0.02)) as smtp:
        students = make_students(course.program, 100)
        session, _ = create_session(course)
        run_worker()
    assert statuses(session.id) == {"sent": 100}
    assert Counter(smtp.handler.recipients) == Counter(emails_of(students))
    assert 2 <= smtp.peak_open <= 8  # the replies' waits overlapped, never more than MAIL_CONNECTIONS
    assert smtp.handler.connections <= 8  # the second batch reused the first one's connections


def test_connections_across_three_workers_stay_under_the_cap(app, course, tmp_path):
    app.config.update(MAIL_CONNECTIONS=4, MAIL_MAX_CONNECTIONS=3, MAIL_BATCH_SIZE=10)
    with relay(app, ScriptedHandler(latency=0.02)) as smtp:
        students = make_students(course.program, 90)
        session = burst_workers_over_queued_jobs(app, course, 3, tmp_path)  # nine send jobs, three workers
    assert statuses(session.id) == {"sent": 90}
    assert Counter(smtp.handler.recipients) == Counter(emails_of(students))
    assert smtp.peak_open <= 3
    # Each worker keeps its share of the cap open from job to job instead of closing it for the others.
    assert smtp.handler.connections <= 8, f"{smtp.handler.connections} connections opened for 90 emails"
    logs = [(tmp_path / f"worker{n}.log").read_text() for n in range(3)]
    assert sum("send_notifications" in log for log in logs) >= 2, "the workers should have shared the jobs"


def test_a_throttling_relay_gets_every_email_and_nobody_fails(app, course, run_worker):
    app.config.update(MAIL_CONNECTIONS=4)
    with relay(app, ScriptedHandler(rate_cap=(8, 1.0))) as smtp:
        students = make_students(course.program, 30)
        session, _ = create_session(course)
        run_worker()
    assert smtp.handler.throttled > 0  # it did say "slow down"
    assert statuses(session.id) == {"sent": 30}
    assert Counter(smtp.handler.recipients) == Counter(emails_of(students))
    rows = db.session.scalars(select(EmailNotification)).all()
    assert all(row.attempts == 1 for row in rows)  # a "slow down" is not a failed attempt of the student
    slowed = [row for row in rows if ("throttled", 451) in history(row.id)]
    assert slowed and all(history(row.id)[-1] == ("sent", 250) for row in slowed)


def test_mail_rate_limit_is_kept_counted_at_the_relay(app, course, run_worker):
    app.config.update(MAIL_CONNECTIONS=4, MAIL_RATE_LIMIT="8/second")
    with relay(app) as smtp:
        make_students(course.program, 30)
        session, _ = create_session(course)
        run_worker()
    assert statuses(session.id) == {"sent": 30}
    times = sorted(smtp.handler.accepted_at)
    busiest = max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))
    assert busiest <= 8


def test_a_rate_limit_place_is_held_until_the_relay_has_answered(app):
    """The relay counts a message when it accepts it, so a slow send must not free its place early."""
    limit = RateLimit(app.extensions["redis"], Relay.of(app.config), parse_rate("2/second"))
    first, second = limit.wait_turn(0), limit.wait_turn(0)
    assert first and second
    time.sleep(1.1)  # both turns are now more than a window old, but neither message has been answered
    assert limit.wait_turn(0.3) is None
    limit.sent(first)
    started = time.monotonic()
    assert limit.wait_turn(3.0)
    assert time.monotonic() - started > 0.8  # the first place aged out a whole window after its answer
    limit.sent(second)


def test_a_refused_login_pauses_delivery_and_fails_nobody_then_resume_sends_all(app, course, run_worker, client,
                                                                               auth):
    use_login(app)
    app.config["MAIL_CONNECTIONS"] = 2
    make_staff("admin@example.edu", Role.ADMIN)
    with relay(app, logins=set()) as smtp:  # the password was rotated on the relay, not here
        students = make_students(course.program, 12)
        session, _ = create_session(course)
        run_worker()
        assert statuses(session.id) == {"pending": 12}
        rows = db.session.scalars(select(EmailNotification)).all()
        assert all(row.attempts == 0 for row in rows)  # the relay's trouble is not the students'
        state = pause.state(app.extensions["redis"], Relay.of(app.config))
        assert state is not None and "535" in state.reason
        assert smtp.login_attempts <= 2  # one per connection, not one per email
        assert smtp.handler.received == []

        auth.login("admin@example.edu")
        page = client.get("/admin/queue").get_data(as_text=True)
        assert "Delivery paused" in page and "535" in page and "Resume delivery" in page
        assert 'id="pause-banner"' in client.get("/sessions").get_data(as_text=True)
        detail = client.get(f"/notifications/{rows[0].id}").get_data(as_text=True)
        assert "login refused" in detail

        smtp.logins = {("portal", "s3cret-pass")}  # fixed
        response = client.post("/admin/queue/resume")
        assert response.status_code == 302
        assert pause.state(app.extensions["redis"], Relay.of(app.config)) is None
        run_worker()
    assert statuses(session.id) == {"sent": 12}
    assert Counter(smtp.handler.recipients) == Counter(emails_of(students))
    assert 'id="pause-banner"' not in client.get("/sessions").get_data(as_text=True)


def test_a_probe_answer_written_just_after_a_resume_does_not_pause_delivery(app):
    redis, ours = app.extensions["redis"], Relay.of(app.config)
    assert pause.pause(redis, ours, "535 login refused") and pause.is_paused(redis, ours)
    assert pause.resume(redis, ours, "admin@example.edu") and not pause.is_paused(redis, ours)
    redis.hset(ours.key("paused"), "last_probe", "2026-11-27T10:00:00 535 login refused")  # the probe, a moment late
    assert not pause.is_paused(redis, ours) and pause.state(redis, ours) is None


def test_the_probe_resumes_delivery_by_itself_with_one_login_per_probe(app, course, tmp_path):
    use_login(app)
    app.config.update(MAIL_PAUSE_PROBE_SECONDS=1, MAIL_CONNECTIONS=2)
    with relay(app, logins=set()) as smtp:
        students = make_students(course.program, 6)
        session, _ = create_session(course)
        with running_worker(app, tmp_path / "worker.log"):
            wait_for(lambda: pause.state(app.extensions["redis"], Relay.of(app.config)) is not None, what="delivery to pause")
            attempts_at_pause = smtp.login_attempts
            wait_for(lambda: "the relay probe failed" in (tmp_path / "worker.log").read_text(), timeout=10,
                     what="a probe while still refused")
            assert statuses(session.id) == {"pending": 6}
            smtp.logins = {("portal", "s3cret-pass")}
            wait_for(lambda: statuses(session.id) == {"sent": 6}, timeout=20, what="the probe to resume delivery")
        assert "resumed by the relay probe" in (tmp_path / "worker.log").read_text()
    assert Counter(smtp.handler.recipients) == Counter(emails_of(students))
    assert smtp.login_attempts - attempts_at_pause <= 6  # probes once a second, never a login storm
    db.session.expire_all()
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("delivery.%"))
                                .order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor_id, e.actor_label) for e in events] == [
        ("delivery.pause", None, "the portal"), ("delivery.resume", None, "the portal")]
    assert events[1].details.startswith("resumed automatically: the relay accepted the login")


def test_a_persons_pause_survives_a_relay_that_answers(app, course, tmp_path, client, auth):
    """An admin pauses (relay maintenance, say); the relay answers every probe; nothing is sent
    until a person resumes, not even a session created meanwhile."""
    app.config.update(MAIL_PAUSE_PROBE_SECONDS=1)
    make_staff("admin@example.edu", Role.ADMIN)
    auth.login("admin@example.edu")
    with relay(app) as smtp:
        assert client.post("/admin/queue/pause", data={"reason": "Relay maintenance"}).status_code == 302
        make_students(course.program, 3)
        session, _ = create_session(course)
        with running_worker(app, tmp_path / "worker.log"):
            time.sleep(4)  # four probe intervals, with a relay that would answer
            assert smtp.handler.received == [] and statuses(session.id) == {"pending": 3}
            assert smtp.handler.connections == 0  # not even probed: a person's pause is not the relay's to end
            state = pause.state(app.extensions["redis"], Relay.of(app.config))
            assert state is not None and state.by == "admin@example.edu"
            client.post("/admin/queue/resume")
            wait_for(lambda: statuses(session.id) == {"sent": 3}, timeout=15, what="delivery after the resume")
    db.session.expire_all()
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("delivery.%"))
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["delivery.pause", "delivery.resume"]  # the admin's, each once


def test_greylisted_once_is_delivered_within_seconds_and_both_tries_are_on_its_page(app, course, tmp_path, client,
                                                                                    auth):
    app.config["MAIL_RETRY_DELAYS"] = [1, 2, 4]
    make_staff("admin@example.edu", Role.ADMIN)
    with relay(app, ScriptedHandler(tempfail=("grey",), tempfail_times=1)) as smtp:
        grey = make_students(course.program, 1, prefix="grey")
        session, _ = create_session(course)
        with running_worker(app, tmp_path / "worker.log"):
            wait_for(lambda: statuses(session.id) == {"sent": 1}, timeout=15, what="the greylisted email")
    assert smtp.handler.recipients == emails_of(grey)
    row = db.session.scalars(select(EmailNotification)).one()
    assert row.attempts == 2 and history(row.id) == [("transient", 451), ("sent", 250)]
    delivered = smtp.handler.received[0].message
    assert delivered["Message-ID"] == row.message_id  # the retry kept the first try's Message-ID

    auth.login("admin@example.edu")
    page = client.get(f"/notifications/{row.id}").get_data(as_text=True)
    assert row.message_id.replace("<", "&lt;").replace(">", "&gt;") in page
    assert "Greylisted" in page and page.count('data-outcome="') == 2


def test_a_retry_runs_when_due_even_if_the_worker_that_scheduled_it_died(app, course, tmp_path):
    app.config["MAIL_RETRY_DELAYS"] = [3, 3]
    with relay(app, ScriptedHandler(tempfail=("grey",), tempfail_times=1)) as smtp:
        make_students(course.program, 1, prefix="grey")
        session, _ = create_session(course)
        first = start_worker(env_for(app), tmp_path / "worker1.log", burst=False)
        try:
            wait_for(lambda: smtp.handler.tempfailed, timeout=15, what="the first try")
            # The relay's 451 comes before the worker records it: kill the worker only once the
            # row waits for its retry (a row killed while "sending" is the sweep's case, not this one).
            wait_for(lambda: statuses(session.id) == {"pending": 1}, timeout=10, what="the 451 to be recorded")
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        assert statuses(session.id) == {"pending": 1}
        with running_worker(app, tmp_path / "worker2.log"):
            wait_for(lambda: statuses(session.id) == {"sent": 1}, timeout=15, what="the retry, by the other worker")
    row = db.session.scalars(select(EmailNotification)).one()
    assert history(row.id) == [("transient", 451), ("sent", 250)]


def test_non_ascii_names_and_course_come_out_right_in_every_part(app, course, run_worker):
    course.course_name = "Données, Systèmes & Réseaux — Ünïcödé Semester Long Course Title That Needs Folding"
    db.session.commit()
    with relay(app) as smtp:
        student = make_students(course.program, 1)[0]
        student.user.first_name, student.user.last_name = "Zoë", "Ñúñez-Øster"
        db.session.commit()
        create_session(course)
        run_worker()
    received = smtp.handler.received[0]
    assert all(len(line) <= 998 for line in received.raw.split(b"\r\n"))
    assert received.raw.isascii()  # headers RFC 2047, bodies quoted-printable
    message = email.message_from_bytes(received.raw, policy=email.policy.default)
    assert message["Subject"] == f"Attendance Session Created: {course.course_name}"
    assert message["To"].addresses[0].display_name == "Zoë Ñúñez-Øster"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Hi Zoë," in text and course.course_name in text
    assert "Zoë" in html and "Données, Systèmes &amp; Réseaux" in html


@pytest.mark.parametrize("smtputf8", [True, False])
def test_a_non_ascii_address_goes_out_with_smtputf8_or_fails_plainly(app, course, run_worker, smtputf8):
    with relay(app, smtputf8=smtputf8) as smtp:
        fine = make_students(course.program, 2)
        make_students(course.program, 1, email_for=lambda n: "josé.núñez@example.edu")
        session, _ = create_session(course)
        run_worker()
    josé = db.session.scalars(select(EmailNotification).join(EmailNotification.student_profile)
                              .where(EmailNotification.status != "sent")).all()
    if smtputf8:
        assert statuses(session.id) == {"sent": 3}
        received = next(r for r in smtp.handler.received if r.recipient.startswith("jos"))
        assert received.recipient == "josé.núñez@example.edu" and "SMTPUTF8" in received.mail_options
        assert "josé.núñez@example.edu".encode() in received.raw
    else:
        assert statuses(session.id) == {"sent": 2, "failed": 1}
        assert "non-ASCII" in josé[0].last_error and "SMTPUTF8" in josé[0].last_error
        assert sorted(smtp.handler.recipients) == emails_of(fine)


def test_an_unexpected_error_fails_that_email_only_and_leaves_nothing_sending(app, course, run_worker, smtp_server,
                                                                              monkeypatch):
    from portal.delivery import smtp as smtp_module

    real_send = smtp_module.RelayConnection._send_once

    def buggy(self, message):
        if message.recipient.startswith("bug"):
            raise KeyError("a bug in a library")
        return real_send(self, message)

    monkeypatch.setattr(smtp_module.RelayConnection, "_send_once", buggy)
    fine = make_students(course.program, 4)
    make_students(course.program, 1, prefix="bug")
    session, _ = create_session(course)
    run_worker()
    assert statuses(session.id) == {"sent": 4, "failed": 1}
    failed = db.session.scalars(select(EmailNotification).where(EmailNotification.status == "failed")).one()
    assert "unexpected error" in failed.last_error and "KeyError" in failed.last_error
    assert sorted(smtp_server.handler.recipients) == emails_of(fine)


def test_a_link_that_expires_while_paused_fails_with_that_reason(app, course, run_worker):
    from portal.delivery.sweep import run_sweep

    make_students(course.program, 2)
    session = make_session(course)
    pause.pause(app.extensions["redis"], Relay.of(app.config), "Mail server refused the login (535 test)")
    from portal.delivery.jobs import generate_notifications

    generate_notifications(session.id)
    run_worker()
    assert statuses(session.id) == {"pending": 2}
    for row in db.session.scalars(select(EmailNotification)):
        row.token_expires_at = datetime.now(timezone.utc) - timedelta(minutes=1)
    db.session.commit()
    assert run_sweep()["expired_pending"] == 2
    rows = db.session.scalars(select(EmailNotification)).all()
    assert {row.status for row in rows} == {"failed"}
    assert all("while delivery was paused" in row.last_error for row in rows)


def test_delivery_command_pauses_resumes_and_reports(app, course, run_worker, smtp_server):
    runner = app.test_cli_runner()
    assert "Delivery running." in runner.invoke(args=["delivery", "status"]).output
    result = runner.invoke(args=["delivery", "pause", "--reason", "Relay maintenance tonight"])
    assert result.exit_code == 0 and "paused" in result.output
    make_students(course.program, 3)
    session, _ = create_session(course)
    run_worker()
    assert statuses(session.id) == {"pending": 3}
    status = runner.invoke(args=["delivery", "status"]).output
    assert "Delivery paused" in status and "Relay maintenance tonight" in status and "pending: 3" in status
    again = runner.invoke(args=["delivery", "pause", "--reason", "Twice"])
    assert again.exit_code == 0 and "already paused" in again.output
    result = runner.invoke(args=["delivery", "resume"])
    assert result.exit_code == 0 and "3 waiting emails queued" in result.output
    run_worker()
    assert statuses(session.id) == {"sent": 3}
    assert "was not paused" in runner.invoke(args=["delivery", "resume"]).output
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("delivery.%"))
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["delivery.pause", "delivery.resume"]  # a pause over a pause, a resume of a running queue: nothing


def test_a_due_retry_is_queued_even_while_its_first_job_still_looks_alive(app, course, queue):
    """A worker that died mid-job leaves its job "started" in RQ; the retry must not wait for it."""
    from portal.delivery.sweep import queue_due_retries

    make_students(course.program, 1)
    session = make_session(course)
    from portal.delivery.jobs import generate_notifications

    generate_notifications(session.id)  # queues send-<digest>, which stays in the queue (alive)
    first_jobs = list(queue.job_ids)
    row = db.session.scalars(select(EmailNotification)).one()
    row.next_attempt_at = datetime.now(timezone.utc) - timedelta(seconds=1)
    db.session.commit()
    assert queue_due_retries() == 1
    assert len(queue.job_ids) == 2 and set(first_jobs) < set(queue.job_ids)
    assert queue_due_retries() == 1 and len(queue.job_ids) == 2  # the same round is not queued twice
