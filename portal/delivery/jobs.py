"""RQ jobs. They take ids, never ORM objects, and are safe to run twice.

Each job runs inside an app context: the one already active (tests, in-process
workers) or the worker process's app, which `worker.py` binds once at start.
"""
import functools
import logging

from flask import Flask, current_app, has_app_context

from portal.bounces import reading
from portal.bounces.mailbox import MailboxError
from portal.database import utcnow
from portal.delivery import queueing
from portal.delivery.sending import DeliveryService
from portal.delivery.sweep import run_sweep
from portal.exceptions import InvalidTokenExpiryError, SessionNotFoundError
from portal.extensions import db
from portal.models import GenerationStatus
from portal.repositories import EmailNotificationRepository, SessionRepository
from portal.services.jwt_service import JWTTokenService
from portal.services.notification_generation_service import NotificationGenerationService

log = logging.getLogger(__name__)
_worker_app: Flask | None = None


def bind_app(app: Flask) -> None:
    global _worker_app
    _worker_app = app


def in_app_context(job):
    @functools.wraps(job)
    def wrapper(*args, **kwargs):
        if has_app_context():
            return job(*args, **kwargs)
        if _worker_app is None:
            raise RuntimeError("no app bound: start workers with worker.py")
        with _worker_app.app_context():
            try:
                return job(*args, **kwargs)
            finally:
                db.session.remove()

    return wrapper


@in_app_context
def generate_notifications(session_id: int) -> dict | None:
    config = current_app.config
    service = NotificationGenerationService(JWTTokenService.from_config(config), config["TOKEN_EXPIRY_MINUTES"],
                                            config["TOKEN_GRACE_MINUTES"])
    try:
        summary = service.generate_notifications_for_session(session_id)
    except SessionNotFoundError:
        log.warning("session %s no longer exists; nothing to generate", session_id)
        return None
    except InvalidTokenExpiryError:
        db.session.rollback()
        _give_up_generation(session_id, "The attendance window had closed before the emails could be prepared")
        return None
    pending = EmailNotificationRepository().get_pending_emails(session_id, utcnow())
    starts_at = SessionRepository().get_by_id(session_id).starts_at
    db.session.commit()
    queueing.enqueue_send_batches(pending, starts_at=starts_at)
    return summary


def _give_up_generation(session_id: int, reason: str) -> None:
    session = SessionRepository().get_by_id(session_id)
    session.generation_status = GenerationStatus.FAILED
    session.generation_error = reason
    db.session.commit()
    log.warning("session %s: %s", session_id, reason)


@in_app_context
def send_notifications(notification_ids: list[int]) -> dict:
    return DeliveryService.from_app().send_batch(notification_ids)


@in_app_context
def sweep() -> dict:
    return run_sweep()


@in_app_context
def read_bounces() -> dict:
    """The bounce mailbox's new mail (portal.bounces); a mailbox that cannot be read is logged in one
    line and read again at the next interval, from where this reading stopped."""
    try:
        return reading.read_bounces()
    except MailboxError as exc:
        db.session.rollback()
        log.warning("%s", exc)
        return {"error": str(exc)}


@in_app_context
def send_account_email(purpose: str, email: str) -> str:
    from portal.staff import account_emails

    return account_emails.send(purpose, email)
