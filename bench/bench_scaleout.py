"""Delivery at a realistic SMTP latency (each reply held 20 ms), with 1, 2 and 4 worker
processes on PostgreSQL: throughput should grow almost linearly, nothing sent twice.

Each worker keeps `CONNECTIONS` connections busy (not the default 20): with 20 each, four
workers would need about 2 CPUs for themselves at these rates, and this machine has 2 in
all (shared with the relay and PostgreSQL), so the figure would measure the machine."""
import time
from collections import Counter

from sqlalchemy import select

from bench.common import SMTPSink, make_app, new_session, postgres_url, report, seed_students, workers

CONNECTIONS = 2


def run(count: int, delay: float = 0.02, batch: int = 20) -> list[dict]:
    rates = {}
    with SMTPSink(delay=delay) as sink:
        app = make_app(postgres_url(), sink.port, MAIL_BATCH_SIZE=batch)
        with app.app_context():
            _, course = seed_students(count)
            for worker_count in (1, 2, 4):
                rates[worker_count] = _measure(app, sink, course, count, worker_count)
    connections = CONNECTIONS
    rows = [(f"{n} worker{'s' if n > 1 else ''} × {connections} connections", rate, "emails/s")
            for n, rate in rates.items()]
    rows.append(("ratio 4 workers / 1 worker", rates[4] / rates[1], "× (target ≥ 3.5)"))
    report(f"Delivery of {count:,} emails with {delay * 1000:.0f} ms per SMTP reply (PostgreSQL, batches of {batch})",
           rows, note="every run: the sink got each expected message exactly once")
    return [{"name": "scale-out 1 → 4 workers", "ratio": rates[4] / rates[1], "target": 3.5, "lower_is_better": False}]


def _measure(app, sink, course, count: int, worker_count: int) -> float:
    from portal.delivery import queueing
    from portal.extensions import db
    from portal.models import EmailNotification
    from portal.services.jwt_service import JWTTokenService
    from portal.services.notification_generation_service import NotificationGenerationService

    db.session.execute(EmailNotification.__table__.delete())
    db.session.commit()
    session = new_session(course)
    NotificationGenerationService(JWTTokenService.from_config(app.config)).generate_notifications_for_session(session.id)
    ids = list(db.session.scalars(select(EmailNotification.id)))
    sink.reset()
    with workers(app, worker_count, MAIL_CONNECTIONS=CONNECTIONS):
        started = time.perf_counter()
        queueing.enqueue_send_batches(ids)
        sink.wait_for(count)
        elapsed = time.perf_counter() - started
    received = Counter(sink.received())
    assert received == Counter(f"student{n}@example.edu" for n in range(count)), "a message was lost or doubled"
    db.session.expire_all()
    assert Counter(db.session.scalars(select(EmailNotification.status))) == {"sent": count}
    return count / elapsed
