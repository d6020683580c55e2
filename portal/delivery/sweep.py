"""Nothing stays waiting, pending or sending forever.

- `run_sweep` (every SWEEP_INTERVAL_SECONDS, `flask --app wsgi sweep`, the admin
  button) queues sessions whose generation never reached the queue, releases rows
  left in `sending` by a dead worker, queues due `pending` rows nobody has touched
  for a while, and fails `pending` rows whose link has expired.
- `queue_due_sessions` (every second in `worker.py`) queues the emails of scheduled
  sessions whose sending time has come.
- `queue_due_retries` (every second in `worker.py`) queues rows whose retry wait has
  just ended. A retry lives in the database (`next_attempt_at`), not in a delayed
  job, so it runs within a second or two of being due whichever worker is alive, and
  a job can never start before its rows are due and find nothing to claim.
- `resume_delivery` ends a relay's pause (or every relay's) and queues everything that waited.

All of them are safe to run any time and from many places: every job has a
deterministic id, so work already in the queue is not queued twice. While delivery is
paused (every relay is) they queue nothing (the rows wait, and keep their attempts).
"""
import logging
from collections import defaultdict
from datetime import datetime, timedelta

from flask import current_app
from redis.exceptions import RedisError

from portal.database import utcnow
from portal.delivery import pause, queueing, relays
from portal.delivery.relays import Relay
from portal.extensions import db
from portal.languages import N_, english
from portal.models import NotificationStatus
from portal.repositories import EmailNotificationRepository, SessionRepository
from portal.timefmt import local_datetime

log = logging.getLogger(__name__)

# Retries that became due longer ago than this are left to the sweep's stale rule.
RETRY_LOOKBACK = timedelta(minutes=10)


def run_sweep(now: datetime | None = None) -> dict:
    config = current_app.config
    now = now or utcnow()
    notifications = EmailNotificationRepository()
    paused, reachable = _pause_state()

    session_ids = SessionRepository().ids_awaiting_generation(now)
    db.session.commit()
    queued = [queueing.enqueue_generation(session_id) for session_id in session_ids]

    recovered = notifications.release_abandoned(now - timedelta(seconds=config["SENDING_TIMEOUT_SECONDS"]), now)
    db.session.commit()
    if recovered and not paused:
        # A fresh id: the dead worker's job may still look "started" to RQ.
        queued.append(queueing.enqueue_send_batches(recovered, suffix=f"-recovered{int(now.timestamp())}"))

    expired = fail_expired(now, paused)
    stale = [] if paused else notifications.stale_pending(
        now - timedelta(seconds=config["PENDING_STALE_SECONDS"]), now)
    db.session.commit()
    queued.append(_enqueue_by_session(stale))

    summary = {"sessions_checked": len(session_ids), "recovered_sending": len(recovered),
               "requeued_pending": len(stale), "expired_pending": expired,
               "queue_reachable": reachable and all(queued)}
    log.info("sweep: %s%s", summary, " (delivery paused)" if paused else "")
    return summary


# What each of the sweep's counts is called (`describe`).
COUNT_NAMES = {"sessions_checked": N_("sessions checked"), "recovered_sending": N_("recovered sending"),
               "requeued_pending": N_("requeued pending"), "expired_pending": N_("expired pending")}


def describe(summary: dict, say=english) -> str:
    """The sweep's counts in words, for the admin page (`say`: gettext) and the command line (English)."""
    return ", ".join(f"{say(COUNT_NAMES[key])}: {value}" for key, value in summary.items() if key in COUNT_NAMES)


def queue_due_sessions(now: datetime | None = None) -> int:
    """Queue the generation of scheduled sessions whose sending time has come (every second in
    `worker.py`: the schedule lives in the database, so workers restarted meanwhile lose nothing)."""
    session_ids = SessionRepository().ids_awaiting_generation(now or utcnow(), scheduled_only=True)
    db.session.commit()
    for session_id in session_ids:
        queueing.enqueue_generation(session_id)
    return len(session_ids)


def queue_due_retries(now: datetime | None = None) -> int:
    """Queue the rows whose retry wait ended since the last call (or in the last minutes)."""
    paused, _ = _pause_state()
    if paused:
        return 0
    now = now or utcnow()
    due = EmailNotificationRepository().due_retries(now - RETRY_LOOKBACK, now)
    db.session.commit()
    # A job id of its own per retry round (the latest due time of the session's rows): the job
    # that made the first try may still look "started" to RQ if its worker died.
    rounds: dict[int, int] = defaultdict(int)
    for session_id, _, due_at in due:
        rounds[session_id] = max(rounds[session_id], int(due_at.timestamp()))
    _enqueue_by_session([(session_id, notification_id) for session_id, notification_id, _ in due],
                        suffix={session_id: f"-due{moment}" for session_id, moment in rounds.items()})
    return len(due)


def resume_delivery(by: str, through: list[Relay] | None = None) -> int | None:
    """End the pause of these relays (default: every relay) and queue every due pending row: how many
    were queued; None (and nothing done) if none was paused, or another resume got there first."""
    redis = queueing.get_redis()
    resumed = [relay for relay in (through or relays.configured()) if pause.resume(redis, relay, by)]
    if not resumed:
        return None
    now = utcnow()
    waiting = EmailNotificationRepository().stale_pending(None, now)
    db.session.commit()
    _enqueue_by_session(waiting)
    return len(waiting)


def fail_expired(now: datetime, paused: bool) -> int:
    """Pending rows whose link expired before they could be sent become `failed`, saying why."""
    notifications = EmailNotificationRepository()
    expired = notifications.expired_pending(now)
    for notification_id, expires_at, last_error in expired:
        reason = f"Not sent: the link expired at {local_datetime(expires_at)}"
        reason += " while delivery was paused" if paused else " before it could be sent"
        if last_error:
            reason += f" (last: {last_error})"
        notifications.update_status(notification_id, NotificationStatus.FAILED, now=now, last_error=reason)
    return len(expired)


def _enqueue_by_session(rows: list[tuple[int, int]], suffix: dict[int, str] | None = None) -> bool:
    """One set of send jobs per session, each as urgent as its session (`suffix`: per session,
    added to the job ids). False if the queue could not be reached."""
    by_session = defaultdict(list)
    for session_id, notification_id in rows:
        by_session[session_id].append(notification_id)
    starts = SessionRepository().start_times(list(by_session)) if by_session else {}
    db.session.commit()
    return all([queueing.enqueue_send_batches(ids, suffix=(suffix or {}).get(session_id, ""),
                                              starts_at=starts.get(session_id))
                for session_id, ids in by_session.items()])


def _pause_state() -> tuple[bool, bool]:
    """(paused, queue reachable). A queue that is down cannot be paused either."""
    try:
        redis = queueing.get_redis()
        return all(pause.is_paused(redis, relay) for relay in relays.configured()), True
    except RedisError:
        return False, False
