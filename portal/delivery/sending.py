"""DeliveryService: claim a batch of notifications, send it, record every outcome.

No database transaction is held open while talking to SMTP: the claim commits,
then each outcome commits on its own as soon as the server has answered, so a
worker that dies mid-batch leaves at most the messages in flight (one per SMTP
connection) to be re-sent. A batch is spread over `connections` SMTP connections,
each in its own thread, so the waits for the server's replies overlap.
"""
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app

from portal.database import utcnow
from portal.extensions import db
from portal.models import NotificationStatus as Status
from portal.repositories import EmailNotificationRepository, OutcomeWriter
from portal.services.email_sender_service import DeliveryResult, EmailSenderService
from portal.timefmt import local_date, local_datetime, local_time

log = logging.getLogger(__name__)


class _Progress:
    """What the connections of one batch have done so far (shared between their threads)."""

    def __init__(self, ids: set[int], claimed: int):
        self.lock = threading.Lock()
        self.counts = {"claimed": claimed, "sent": 0, "failed": 0, "retrying": 0, "expired": 0}
        self.retries: dict[int, list[int]] = defaultdict(list)
        self.remaining = ids
        self.last_beat = time.monotonic()
        self.errors: list[BaseException] = []

    def done(self, email: dict, outcome: str) -> None:
        with self.lock:
            self.counts[outcome] += 1
            if outcome == "retrying":
                self.retries[email["attempts"]].append(email["id"])
            self.remaining.discard(email["id"])

    def heartbeat_due(self, every: float) -> list[int]:
        """The ids still in flight, when it is time to refresh their claim (else [])."""
        with self.lock:
            if not self.remaining or time.monotonic() - self.last_beat < every:
                return []
            self.last_beat = time.monotonic()
            return sorted(self.remaining)


class DeliveryService:
    def __init__(
        self,
        sender: EmailSenderService,
        base_url: str,
        retry_delays: list[int],
        sending_timeout: int = 600,
        schedule_retry: Callable[[list[int], int, int], object] | None = None,
        notifications: EmailNotificationRepository | None = None,
        clock: Callable[[], datetime] = utcnow,
        connections: int = 1,
    ):
        self.sender = sender
        self.base_url = base_url.rstrip("/")
        self.retry_delays = list(retry_delays)
        self.max_attempts = len(self.retry_delays) + 1
        self.heartbeat_every = max(1.0, sending_timeout / 3)
        self.schedule_retry = schedule_retry
        self.notifications = notifications or EmailNotificationRepository()
        self.now = clock
        self.connections = max(1, connections)

    @classmethod
    def from_app(cls, schedule_retry=None) -> "DeliveryService":
        config = current_app.config
        return cls(
            EmailSenderService.from_app(),
            config["PORTAL_BASE_URL"],
            config["MAIL_RETRY_DELAYS"],
            config["SENDING_TIMEOUT_SECONDS"],
            schedule_retry=schedule_retry,
            connections=config["MAIL_CONNECTIONS"],
        )

    def send_batch(self, notification_ids: list[int]) -> dict:
        started = time.monotonic()
        now = self.now()
        claimed = self.notifications.claim(notification_ids, now)
        db.session.commit()
        rows = self.notifications.load_for_delivery(claimed) if claimed else []
        db.session.commit()  # end the read transaction before any SMTP traffic

        progress = _Progress({row.id for row in rows}, len(claimed))
        emails = self._drop_expired(rows, now, progress)
        parts = [part for part in (emails[k :: self.connections] for k in range(self.connections)) if part]
        if len(parts) > 1:
            self._send_in_threads(parts, progress)
        elif parts:
            self._send_part(parts[0], progress)
        for attempts, ids in progress.retries.items():
            if self.schedule_retry:
                self.schedule_retry(ids, self.retry_delays[attempts - 1], attempts)

        counts = progress.counts
        log.info(
            "batch of %d: claimed %d, sent %d, failed %d, retrying %d, expired %d in %.2f s",
            len(notification_ids), counts["claimed"], counts["sent"], counts["failed"],
            counts["retrying"], counts["expired"], time.monotonic() - started,
        )
        return counts

    def _drop_expired(self, rows: list, now: datetime, progress: _Progress) -> list[dict]:
        """Links that expired before they could be sent are recorded as failed, not sent."""
        emails = []
        with OutcomeWriter.open() as writer:
            for row in rows:
                if row.token_expires_at <= now:
                    reason = (f"Not sent: the link expired at {local_datetime(row.token_expires_at)} "
                              "before it could be sent")
                    writer.record(row.id, Status.FAILED, reason, self.now())
                    progress.done({"id": row.id}, "expired")
                else:
                    emails.append(self._email(row))
        return emails

    def _send_in_threads(self, parts: list[list[dict]], progress: _Progress) -> None:
        app = current_app._get_current_object()

        def run(part: list[dict]) -> None:
            try:
                with app.app_context():
                    try:
                        self._send_part(part, progress)
                    finally:
                        db.session.remove()
            except BaseException as exc:  # re-raised in the job's thread below
                progress.errors.append(exc)

        threads = [threading.Thread(target=run, args=(part,), name=f"smtp-{n}") for n, part in enumerate(parts)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if progress.errors:
            raise progress.errors[0]

    def _send_part(self, emails: list[dict], progress: _Progress) -> None:
        """One SMTP connection's share of the batch, each outcome written as it is answered."""
        with OutcomeWriter.open() as writer:

            def record(email: dict, result: DeliveryResult) -> None:
                progress.done(email, self._record_result(writer, email, result))
                stale = progress.heartbeat_due(self.heartbeat_every)
                if stale:  # a working batch keeps its rows from looking abandoned
                    self.notifications.touch_claims(stale, self.now())
                    db.session.commit()

            self.sender.send_bulk_emails(emails, on_result=record)

    def _email(self, row) -> dict:
        context = {
            "student_first_name": row.first_name,
            "course_name": row.course_name,
            "course_code": row.course_code,
            "session_date": local_date(row.starts_at),
            "start_time": local_time(row.starts_at),
            "end_time": local_time(row.ends_at),
            "attendance_link": f"{self.base_url}/attendance?token={row.token}",
            "token_expiry": local_datetime(row.token_expires_at),
            "radius_m": row.radius_m,
            "location_required": row.latitude is not None,
        }
        return {"id": row.id, "attempts": row.attempts, "recipient_email": row.email, "context": context}

    def _record_result(self, writer: OutcomeWriter, email: dict, result: DeliveryResult) -> str:
        now = self.now()
        if result.sent:
            writer.record(email["id"], Status.SENT, None, now, sent_at=now)
            return "sent"
        if result.transient and email["attempts"] < self.max_attempts:
            delay = self.retry_delays[email["attempts"] - 1]
            reason = f"{result.reason}; will try again (attempt {email['attempts'] + 1} of {self.max_attempts})"
            writer.record(email["id"], Status.PENDING, reason, now, next_attempt_at=now + timedelta(seconds=delay))
            return "retrying"
        reason = result.reason
        if result.transient:
            reason = f"{reason} (gave up after {email['attempts']} attempts)"
        writer.record(email["id"], Status.FAILED, reason, now)
        return "failed"
