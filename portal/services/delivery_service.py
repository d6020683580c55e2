"""DeliveryService: claim a batch of notifications, send it, record every outcome.

No database transaction is held open while talking to SMTP: the claim commits,
then each outcome commits on its own as soon as the server has answered, so a
worker that dies mid-batch leaves at most the message in flight to be re-sent.
"""
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app

from portal.database import fast_commit_hint, utcnow
from portal.extensions import db
from portal.models import NotificationStatus as Status
from portal.repositories import EmailNotificationRepository
from portal.services.email_sender_service import DeliveryResult, EmailSenderService
from portal.timefmt import local_date, local_datetime, local_time

log = logging.getLogger(__name__)


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
    ):
        self.sender = sender
        self.base_url = base_url.rstrip("/")
        self.retry_delays = list(retry_delays)
        self.max_attempts = len(self.retry_delays) + 1
        self.heartbeat_every = max(1.0, sending_timeout / 3)
        self.schedule_retry = schedule_retry
        self.notifications = notifications or EmailNotificationRepository()
        self.now = clock

    @classmethod
    def from_app(cls, schedule_retry=None) -> "DeliveryService":
        config = current_app.config
        return cls(
            EmailSenderService.from_app(),
            config["PORTAL_BASE_URL"],
            config["MAIL_RETRY_DELAYS"],
            config["SENDING_TIMEOUT_SECONDS"],
            schedule_retry=schedule_retry,
        )

    def send_batch(self, notification_ids: list[int]) -> dict:
        started = time.monotonic()
        now = self.now()
        claimed = self.notifications.claim(notification_ids, now)
        db.session.commit()
        rows = self.notifications.load_for_delivery(claimed) if claimed else []
        db.session.commit()  # end the read transaction before any SMTP traffic

        counts = {"claimed": len(claimed), "sent": 0, "failed": 0, "retrying": 0, "expired": 0}
        emails = []
        for row in rows:
            if row.token_expires_at <= now:
                reason = f"Not sent: the link expired at {local_datetime(row.token_expires_at)} before it could be sent"
                self._record(row.id, Status.FAILED, last_error=reason)
                counts["expired"] += 1
            else:
                emails.append(self._email(row))

        retries: dict[int, list[int]] = defaultdict(list)
        remaining = {email["id"] for email in emails}
        last_beat = time.monotonic()

        def record(email: dict, result: DeliveryResult) -> None:
            nonlocal last_beat
            outcome = self._record_result(email, result)
            counts[outcome] += 1
            if outcome == "retrying":
                retries[email["attempts"]].append(email["id"])
            remaining.discard(email["id"])
            if remaining and time.monotonic() - last_beat > self.heartbeat_every:
                self.notifications.touch_claims(sorted(remaining), self.now())
                db.session.commit()
                last_beat = time.monotonic()

        self.sender.send_bulk_emails(emails, on_result=record)
        for attempts, ids in retries.items():
            if self.schedule_retry:
                self.schedule_retry(ids, self.retry_delays[attempts - 1], attempts)

        log.info(
            "batch of %d: claimed %d, sent %d, failed %d, retrying %d, expired %d in %.2f s",
            len(notification_ids), counts["claimed"], counts["sent"], counts["failed"],
            counts["retrying"], counts["expired"], time.monotonic() - started,
        )
        return counts

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

    def _record_result(self, email: dict, result: DeliveryResult) -> str:
        if result.sent:
            self._record(email["id"], Status.SENT, sent_at=self.now(), last_error=None, next_attempt_at=None)
            return "sent"
        if result.transient and email["attempts"] < self.max_attempts:
            delay = self.retry_delays[email["attempts"] - 1]
            self._record(
                email["id"],
                Status.PENDING,
                last_error=f"{result.reason}; will try again (attempt {email['attempts'] + 1} of {self.max_attempts})",
                next_attempt_at=self.now() + timedelta(seconds=delay),
            )
            return "retrying"
        reason = result.reason
        if result.transient:
            reason = f"{reason} (gave up after {email['attempts']} attempts)"
        self._record(email["id"], Status.FAILED, last_error=reason)
        return "failed"

    def _record(self, notification_id: int, status: str, **fields) -> None:
        fast_commit_hint()
        self.notifications.update_status(notification_id, status, now=self.now(), **fields)
        db.session.commit()
