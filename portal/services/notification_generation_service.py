"""NotificationGenerationService: one pending notification per eligible student."""
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm.exc import StaleDataError

from portal.database import utcnow
from portal.delivery import queueing
from portal.exceptions import SessionNotFoundError
from portal.extensions import db
from portal.link_window import expiry_rule
from portal.models import GenerationStatus, NotificationStatus
from portal.repositories import EmailNotificationRepository, SessionRepository, StudentProfileRepository
from portal.services.jwt_service import JWTTokenService
from portal.timefmt import local_datetime

log = logging.getLogger(__name__)


GENERATION_TRIES = 5
RETRY_GIVES_WAY = timedelta(hours=2)  # an admin's retry goes after every class starting sooner
RETRYABLE = (NotificationStatus.FAILED, NotificationStatus.BOUNCED)


class NotificationGenerationService:
    """Owns the transaction; `dispatch(ids)` (optional) is called after a retry commits and
    returns whether the ids reached the queue."""

    def __init__(
        self,
        jwt_service: JWTTokenService,
        token_expiry_minutes: int = 60,
        token_grace_minutes: int = 15,
        sessions: SessionRepository | None = None,
        students: StudentProfileRepository | None = None,
        notifications: EmailNotificationRepository | None = None,
        dispatch: Callable[[list[int]], object] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.jwt = jwt_service
        self.expiry_minutes, self.grace_minutes = token_expiry_minutes, token_grace_minutes
        self.sessions = sessions or SessionRepository()
        self.students = students or StudentProfileRepository()
        self.notifications = notifications or EmailNotificationRepository()
        self.dispatch = dispatch
        self.now = clock

    @classmethod
    def for_admin_retry(cls, config) -> "NotificationGenerationService":
        """The service as an admin's retry uses it: what it retries goes back on the queue as a bulk
        retry (after every class starting within RETRY_GIVES_WAY)."""
        return cls(JWTTokenService.from_config(config),
                   dispatch=lambda ids: queueing.enqueue_send_batches(ids, bulk=True))

    def generate_notifications_for_session(self, session_id: int) -> dict:
        """One pending notification per eligible student, in one transaction with the session's
        `generated_at`. An edit saved meanwhile (the session's version moved) makes the commit
        fail with nothing written; generation then starts again from the session as it is."""
        for attempt in range(1, GENERATION_TRIES + 1):
            try:
                return self._generate(session_id)
            except StaleDataError:
                db.session.rollback()
                log.info("session %s changed while its emails were prepared; preparing again (try %d)",
                         session_id, attempt + 1)
        raise RuntimeError(f"session {session_id} kept changing while its emails were prepared")

    def _generate(self, session_id: int) -> dict:
        started = time.monotonic()
        session = self.sessions.get_by_id(session_id)
        if session is None:
            raise SessionNotFoundError(f"Session {session_id} not found")
        if session.cancelled or session.register_only:
            log.info("session %s is %s; no notifications created", session_id,
                     "cancelled" if session.cancelled else "register-only (no emails)")
            return {"session_id": session_id, "notifications_created": 0, "eligible_students": 0}
        eligible = self.students.get_by_program_and_stream(session.program_id, session.stream_id, active_only=True)
        expires_at = expiry_rule(session.starts_at, session.ends_at, self.expiry_minutes, self.grace_minutes)
        student_ids = [student.student_profile_id for student in eligible]
        tokens = self.jwt.generate_tokens(student_ids, session_id, expires_at) if student_ids else []
        rows = [
            {
                "session_id": session_id,
                "student_profile_id": student_id,
                "token": token,
                "token_expires_at": expires_at,
                "status": NotificationStatus.PENDING,
            }
            for student_id, token in zip(student_ids, tokens, strict=True)
        ]
        created = self.notifications.bulk_create(rows)  # how many were new
        session.generation_status = GenerationStatus.DONE
        session.generation_error = None
        session.generated_at = self.now()
        db.session.commit()
        log.info("session %s: %d eligible, %d notifications created in %.2f s",
                 session_id, len(eligible), created, time.monotonic() - started)
        return {"session_id": session_id, "notifications_created": created, "eligible_students": len(eligible)}

    def retry_failed_notifications(self, email_ids: list[int]) -> dict:
        """Failed (or bounced, once the address is fixed) → pending (sent_at cleared); anything else is
        skipped with its reason."""
        found = {n.id: n for n in self.notifications.get_by_ids(list(email_ids))}
        now = self.now()
        retried, skipped, errors = [], 0, []
        for email_id in dict.fromkeys(email_ids):
            notification = found.get(email_id)
            if notification is None:
                errors.append(f"Notification {email_id} not found")
            elif notification.status not in RETRYABLE:
                skipped += 1
                errors.append(f"Notification {email_id} skipped: it is {notification.status}, not failed or bounced")
            elif notification.status == NotificationStatus.BOUNCED and notification.student_profile.email_bouncing:
                skipped += 1
                errors.append(f"Notification {email_id} skipped: {notification.student_profile.user.email} still "
                              f"bounces; correct the student's address first")
            elif notification.token_expires_at <= now:
                skipped += 1
                expired = local_datetime(notification.token_expires_at)
                errors.append(f"Notification {email_id} skipped: its link expired at {expired}")
            else:
                retried.append(email_id)
        # An admin's retry gives way to every class starting within the next two hours (the workers
        # send the most urgent email first: see EmailNotificationRepository.claim_most_urgent).
        self.notifications.reset_to_pending(retried, now, deadline=now + RETRY_GIVES_WAY)
        db.session.commit()
        queued = bool(self.dispatch(retried)) if retried and self.dispatch else None
        # The seed's summary, plus whether the retried rows reached the queue (None: nothing dispatched).
        return {"retried": len(retried), "skipped": skipped, "errors": errors, "queued": queued}
