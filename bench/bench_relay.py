"""Delivery through a relay that holds each reply 20 ms (like one across a network):
one `python worker.py` at its default settings against django-post_office at its
defaults (5 threads), same relay, same run; then MAIL_RATE_LIMIT, counted at the relay."""
import json
import subprocess
import sys
import time
from collections import Counter

from sqlalchemy import select

from bench.common import ROOT, SMTPSink, make_app, new_session, postgres_url, report, seed_students, workers

DELAY = 0.02


def run(count: int, rate_emails: int) -> list[dict]:
    with SMTPSink(delay=DELAY) as sink:
        peer = _post_office(sink, count)
        app = make_app(postgres_url(), sink.port)
        with app.app_context():
            _, course = seed_students(max(count, rate_emails))
            portal, connections = _portal(app, sink, course, count)
            limit = 20
            busiest, average = _rate_limited(app, sink, course, rate_emails, limit)
    report(f"Delivery of {count:,} emails through a relay holding each reply {DELAY * 1000:.0f} ms", [
        (f"portal: one worker.py, defaults ({connections} connections)", portal, "emails/s"),
        ("peer: django-post_office, defaults (5 threads)", peer, "emails/s"),
        ("ratio portal / post_office", portal / peer, "× (target ≥ 2)"),
    ])
    report(f"MAIL_RATE_LIMIT={limit}/second, {rate_emails} emails, two workers, counted at the relay", [
        ("busiest one-second window", busiest, f"messages (limit {limit})"),
        ("busiest window / limit", busiest / limit, "× (target ≤ 1)"),
        ("average rate", average, "messages/s"),
        ("average / limit", average / limit, "× (target ≥ 0.9)"),
    ])
    return [
        {"name": "relay latency: portal vs post_office", "ratio": portal / peer, "target": 2.0,
         "lower_is_better": False},
        {"name": "MAIL_RATE_LIMIT busiest window / limit", "ratio": busiest / limit, "target": 1.0,
         "lower_is_better": True},
        {"name": "MAIL_RATE_LIMIT average / limit", "ratio": average / limit, "target": 0.9,
         "lower_is_better": False},
    ]


def _portal(app, sink, course, count: int) -> tuple[float, int]:
    ids = _fresh_session(app, sink, course, count)
    with workers(app, 1):
        started = time.perf_counter()
        _enqueue(ids)
        sink.wait_for(count)
        elapsed = time.perf_counter() - started
    _check(app, sink, count)
    return count / elapsed, app.config["MAIL_CONNECTIONS"]


def _rate_limited(app, sink, course, count: int, limit: int) -> tuple[int, float]:
    ids = _fresh_session(app, sink, course, count)
    with workers(app, 2, MAIL_RATE_LIMIT=f"{limit}/second"):
        _enqueue(ids)
        sink.wait_for(count)
    _check(app, sink, count)
    times = sink.accepted_times()
    busiest = max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))
    # The first window's messages all go at once; counting the last window whole is fair to both ends.
    return busiest, len(times) / (times[-1] - times[0] + 1.0)


def _fresh_session(app, sink, course, count: int) -> list[int]:
    from portal.extensions import db
    from portal.models import EmailNotification
    from portal.services.jwt_service import JWTTokenService
    from portal.services.notification_generation_service import NotificationGenerationService

    db.session.execute(EmailNotification.__table__.delete())
    db.session.commit()
    app.extensions["redis"].flushdb()
    sink.reset()
    session = new_session(course)
    NotificationGenerationService(JWTTokenService.from_config(app.config)).generate_notifications_for_session(session.id)
    return list(db.session.scalars(select(EmailNotification.id).order_by(EmailNotification.id).limit(count)))


def _enqueue(ids: list[int]) -> None:
    from portal.delivery import queueing
    from portal.extensions import db
    from portal.models import EmailNotification

    # Only the first `count` students are sent; the others are set aside.
    db.session.execute(EmailNotification.__table__.update().where(EmailNotification.id.not_in(ids))
                       .values(status="sent"))
    db.session.commit()
    queueing.enqueue_send_batches(ids)


def _check(app, sink, count: int) -> None:
    from portal.extensions import db
    from portal.models import EmailNotification

    received = Counter(sink.received())
    assert sum(received.values()) == count and max(received.values()) == 1, "a message was lost or doubled"
    db.session.expire_all()
    assert db.session.scalar(select(EmailNotification.id).where(EmailNotification.status != "sent").limit(1)) is None


def _post_office(sink: SMTPSink, count: int) -> float:
    sink.reset()
    output = subprocess.run([sys.executable, "-m", "bench.peer_post_office", str(sink.port), str(count), "5"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    assert result["sent"] == count, result
    assert Counter(sink.received()) == Counter(f"student{n}@example.edu" for n in range(count))
    sink.reset()
    return count / result["seconds"]
