"""Delivery to a sink that answers at once, one worker: render + send + record N notifications
through the real RQ send jobs to a local SMTP sink (its own process), against bare smtplib
sending pre-built messages over one connection to the same sink, and against
django-post_office. For information only, as CPU time per message: a real relay's latency,
not this, is what users wait for (see bench_relay, which has the target)."""
import json
import smtplib
import subprocess
import sys
import time
from collections import Counter
from email import policy
from email.message import EmailMessage

from sqlalchemy import select

from bench.common import ROOT, SMTPSink, make_app, new_session, report, seed_students, sqlite_url

# About the size of a real attendance email (≈ 3 KiB with both parts).
TEXT = "Hi Student,\n\n" + ("Your lecturer has created an attendance session for you.\n" * 12)
HTML = "<html><body>" + ("<p style=\"margin:0 0 16px\">Your lecturer has created an attendance session.</p>\n" * 24) + "</body></html>"


def run(count: int) -> list[dict]:
    with SMTPSink() as sink:
        floor_rate = _floor(sink, count)
        portal_rate, stats = _portal(sink, count)
        peers = {threads: _post_office(sink, count, threads) for threads in (1, 5)}
    rows = [("portal (render + send + record)", 1000 / portal_rate, "ms per email"),
            ("floor: bare smtplib, pre-built, one connection", 1000 / floor_rate, "ms per email"),
            ("peer: django-post_office, 1 thread", 1000 / peers[1], "ms per email"),
            ("peer: django-post_office, 5 threads (its default)", 1000 / peers[5], "ms per email"),
            ("ratio portal / floor (rates)", portal_rate / floor_rate, "× (information, no target)"),
            ("ratio portal / post_office default (rates)", portal_rate / peers[5], "× (information, no target)")]
    report(f"Delivery of {count:,} emails to an instant sink, one worker: CPU per message", rows, note=stats)
    return []


def _floor(sink: SMTPSink, count: int) -> float:
    messages = []
    for n in range(count):
        message = EmailMessage()
        message["From"], message["To"] = "attendance@example.edu", f"student{n}@example.edu"
        message["Subject"] = "Attendance Session Created: Benchmarking"
        message.set_content(TEXT)
        message.add_alternative(HTML, subtype="html")
        messages.append((message["To"], message.as_bytes(policy=policy.SMTP)))
    sink.reset()
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", sink.port) as smtp:
        for recipient, raw in messages:
            smtp.sendmail("attendance@example.edu", [recipient], raw)
    elapsed = time.perf_counter() - started
    _check(sink, [recipient for recipient, _ in messages])
    return count / elapsed


def _portal(sink: SMTPSink, count: int) -> tuple[float, str]:
    from portal.delivery import queueing
    from portal.extensions import db
    from portal.models import EmailNotification
    from portal.services.jwt_service import JWTTokenService
    from portal.services.notification_generation_service import NotificationGenerationService

    app = make_app(sqlite_url(), sink.port, MAIL_BATCH_SIZE=50)
    with app.app_context():
        _, course = seed_students(count)
        session = new_session(course)
        NotificationGenerationService(JWTTokenService.from_config(app.config)).generate_notifications_for_session(
            session.id)
        ids = list(db.session.scalars(select(EmailNotification.id)))
        queueing.enqueue_send_batches(ids)
        sink.reset()
        started = time.perf_counter()
        queueing.make_worker(app).work(
            burst=True, logging_level="ERROR")
        elapsed = time.perf_counter() - started
        db.session.expire_all()
        statuses = Counter(db.session.scalars(select(EmailNotification.status)))
        assert statuses == {"sent": count}, statuses
    _check(sink, [f"student{n}@example.edu" for n in range(count)])
    return count / elapsed, f"portal: {count // 50} send jobs of 50, SQLite, every row recorded 'sent' as it was answered"


def _post_office(sink: SMTPSink, count: int, threads: int) -> float:
    sink.reset()
    output = subprocess.run([sys.executable, "-m", "bench.peer_post_office", str(sink.port), str(count), str(threads)],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    assert result["sent"] == count, result
    _check(sink, [f"student{n}@example.edu" for n in range(count)])
    return count / result["seconds"]


def _check(sink: SMTPSink, expected: list[str]) -> None:
    """The sink received exactly the expected messages, each once."""
    received = Counter(sink.received())
    assert received == Counter(expected), f"sink got {sum(received.values())} messages, expected {len(expected)}"
