"""The sweep: makes sure nothing stays waiting, pending or sending forever.

Safe to run any time and from many places: every job it enqueues has a
deterministic id, so work already in the queue is not enqueued twice.
"""
import logging
from collections import defaultdict
from datetime import datetime, timedelta

from flask import current_app

from portal.database import utcnow
from portal.delivery import queueing
from portal.extensions import db
from portal.repositories import EmailNotificationRepository, SessionRepository

log = logging.getLogger(__name__)


def run_sweep(now: datetime | None = None) -> dict:
    config = current_app.config
    now = now or utcnow()
    notifications = EmailNotificationRepository()

    session_ids = SessionRepository().ids_awaiting_generation()
    db.session.commit()
    for session_id in session_ids:
        queueing.enqueue_generation(session_id)

    recovered = notifications.release_abandoned(now - timedelta(seconds=config["SENDING_TIMEOUT_SECONDS"]), now)
    db.session.commit()
    if recovered:
        # A fresh id: the dead worker's job may still look "started" to RQ.
        queueing.enqueue_send_batches(recovered, suffix=f"-recovered{int(now.timestamp())}")

    stale = notifications.stale_pending(now - timedelta(seconds=config["PENDING_STALE_SECONDS"]), now)
    db.session.commit()
    by_session = defaultdict(list)
    for session_id, notification_id in stale:
        by_session[session_id].append(notification_id)
    for ids in by_session.values():
        queueing.enqueue_send_batches(ids)

    summary = {"sessions_checked": len(session_ids), "recovered_sending": len(recovered), "requeued_pending": len(stale)}
    log.info("sweep: %s", summary)
    return summary
