"""Turns "these need doing" into RQ jobs with deterministic ids.

Every function here tolerates a queue that is down: it logs, returns False, and
leaves the rows in the database for the sweep to find.
"""
import logging

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import update

from portal.extensions import db
from portal.models import AttendanceSession, GenerationStatus
from portal.queueing import enqueue_once, ids_digest

log = logging.getLogger(__name__)

GENERATE_JOB = "portal.tasks.generate_notifications"
SEND_JOB = "portal.tasks.send_notifications"
SWEEP_JOB = "portal.tasks.sweep"


def enqueue_generation(session_id: int) -> bool:
    """Queue the generation job of a committed session; marks it `queued` when that worked."""
    try:
        enqueue_once(GENERATE_JOB, (session_id,), f"generate-session-{session_id}", job_timeout=1800)
    except RedisError as exc:
        log.warning("queue unreachable, session %s waits for the sweep: %s", session_id, exc)
        return False
    db.session.execute(
        update(AttendanceSession)
        .where(AttendanceSession.id == session_id, AttendanceSession.generation_status == GenerationStatus.WAITING)
        .values(generation_status=GenerationStatus.QUEUED)
    )
    db.session.commit()
    return True


def enqueue_send_batches(notification_ids: list[int], delay: int = 0, suffix: str = "") -> bool:
    """One send job per MAIL_BATCH_SIZE ids; the same ids (and suffix) always give the same job id."""
    config = current_app.config
    size = config["MAIL_BATCH_SIZE"]
    timeout = size * (2 * config["MAIL_TIMEOUT_SECONDS"] + 5) + 60
    ids = sorted(notification_ids)
    try:
        for start in range(0, len(ids), size):
            chunk = ids[start : start + size]
            job_id = f"send-{ids_digest(chunk)}{suffix}"
            enqueue_once(SEND_JOB, (chunk,), job_id, delay=delay, job_timeout=timeout)
    except RedisError as exc:
        log.warning("queue unreachable, %d notifications wait for the sweep: %s", len(ids), exc)
        return False
    return True


def schedule_retry(notification_ids: list[int], delay: int, attempts_done: int) -> bool:
    return enqueue_send_batches(notification_ids, delay=delay, suffix=f"-attempt{attempts_done + 1}")
