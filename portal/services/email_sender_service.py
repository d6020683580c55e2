"""EmailSenderService: renders and sends attendance emails over SMTP with Flask-Mail.

One connection per batch; one bad message never stops a batch; a dropped connection
is reopened and a timed-out message retried once. Failures are classified as
transient (4xx, disconnect, timeout: worth retrying later) or permanent (5xx,
invalid address, refused headers). Delivery failures are never raised.
"""
import logging
import smtplib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_mail import Mail, Message

from portal.delivery.smtp import SafeConnection
from portal.services.email_composer import EmailComposer
from portal.services.email_templates import BatchRenderer

log = logging.getLogger(__name__)

SUBJECT = "Attendance Session Created: {course_name}"
TEMPLATE = "emails/attendance_notification"


@dataclass(frozen=True)
class DeliveryResult:
    sent: bool
    transient: bool = False
    reason: str | None = None


SENT = DeliveryResult(sent=True)


def _permanent(reason: str) -> DeliveryResult:
    return DeliveryResult(sent=False, transient=False, reason=reason)


def _transient(reason: str) -> DeliveryResult:
    return DeliveryResult(sent=False, transient=True, reason=reason)


class _SMTPTrouble(Exception):
    """A connection-level problem; `reason` is what the notification's record will say."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class _ConnectionLost(_SMTPTrouble):
    """The SMTP connection is unusable; the message may be retried on a new one."""


class _ConnectFailed(_SMTPTrouble):
    """No connection could be opened: the rest of the batch would fail the same way."""


class EmailSenderService:
    def __init__(self, mail: Mail, sender: str, batch_size: int = 50, timeout: float = 30):
        self.mail = mail
        self.sender = sender
        self.batch_size = max(1, batch_size)
        self.timeout = timeout
        self._composers: dict[str, EmailComposer] = {}
        self._renderer: BatchRenderer | None = None

    @classmethod
    def from_app(cls, app=None) -> "EmailSenderService":
        app = app or current_app
        return cls(
            app.extensions["mail"],
            app.config["MAIL_DEFAULT_SENDER"],
            app.config["MAIL_BATCH_SIZE"],
            app.config["MAIL_TIMEOUT_SECONDS"],
        )

    def build_message(self, recipient_email: str, context: dict) -> Message:
        subject = SUBJECT.format(course_name=context["course_name"])
        composer = self._composers.get(subject)
        if composer is None:  # one per subject: a batch is one session, so one course
            composer = self._composers[subject] = EmailComposer(self.sender, subject)
        if self._renderer is None:
            self._renderer = BatchRenderer(current_app.jinja_env)
        render = self._renderer.render
        return composer.compose(recipient_email, render(f"{TEMPLATE}.txt", context), render(f"{TEMPLATE}.html", context))

    def send_attendance_notification(self, recipient_email: str, context: dict) -> bool:
        summary = self.send_bulk_emails([{"recipient_email": recipient_email, "context": context}])
        return summary["sent"] == 1

    def send_bulk_emails(
        self,
        emails: list[dict],
        on_result: Callable[[dict, DeliveryResult], None] | None = None,
    ) -> dict:
        """Send every email; `on_result(email, result)` is called as soon as each is answered."""
        summary = {"total": len(emails), "sent": 0, "failed": 0, "failed_emails": []}
        for start in range(0, len(emails), self.batch_size):
            batch = emails[start : start + self.batch_size]
            for email, result in self._send_batch(batch):
                if result.sent:
                    summary["sent"] += 1
                else:
                    summary["failed"] += 1
                    summary["failed_emails"].append(email["recipient_email"])
                    log.warning("email to %s failed: %s", email["recipient_email"], result.reason)
                if on_result:
                    on_result(email, result)
        return summary

    def _send_batch(self, batch: list[dict]) -> Iterable[tuple[dict, DeliveryResult]]:
        connection = SafeConnection(self.mail, self.timeout)
        broken_reason = None  # once set, the server is unusable for the rest of the batch
        try:
            for email in batch:
                message, problem = self._prepare(email)
                if problem:
                    yield email, problem
                elif broken_reason:
                    yield email, _transient(broken_reason)
                else:
                    result, broken_reason = self._deliver(connection, message)
                    yield email, result
        finally:
            connection.close()

    def _prepare(self, email: dict) -> tuple[Message | None, DeliveryResult | None]:
        address = email["recipient_email"]
        try:
            validate_email(address, check_deliverability=False)
        except EmailNotValidError as exc:
            return None, _permanent(f"Invalid email address: {exc}")
        message = self.build_message(address, email["context"])
        if message.has_bad_headers():
            return None, _permanent("Refused to send: a header contains a line break")
        return message, None

    def _deliver(self, connection: SafeConnection, message: Message) -> tuple[DeliveryResult, str | None]:
        """Send one message, reconnecting and retrying once after a lost connection."""
        for attempt in (1, 2):
            try:
                if connection.host is None:
                    connection.host = self._connect(connection)
                return self._send_once(connection, message), None
            except _ConnectionLost as lost:
                connection.close()
                if attempt == 2:
                    return _transient(lost.reason), lost.reason
            except _ConnectFailed as failed:
                return _transient(failed.reason), failed.reason
        raise AssertionError("unreachable")

    def _connect(self, connection: SafeConnection) -> smtplib.SMTP:
        where = f"{self.mail.server}:{self.mail.port}"
        try:
            return connection.configure_host()
        except smtplib.SMTPResponseException as exc:
            raise _ConnectFailed(
                f"Mail server {where} refused the connection ({_smtp_text(exc.smtp_code, exc.smtp_error)})"
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            if _timed_out(exc):
                raise _ConnectFailed(f"Mail server {where} did not answer within {self.timeout:g} s") from None
            raise _ConnectFailed(f"Could not connect to mail server {where} ({exc})") from None

    def _send_once(self, connection: SafeConnection, message: Message) -> DeliveryResult:
        try:
            connection.send(message)
            return SENT
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            return self._classify(code, text, "Recipient refused by mail server")
        except smtplib.SMTPResponseException as exc:
            return self._classify(exc.smtp_code, exc.smtp_error, "Mail server refused the message")
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            if _timed_out(exc):
                raise _ConnectionLost(f"Mail server did not answer within {self.timeout:g} s") from None
            raise _ConnectionLost("Mail server closed the connection") from None

    @staticmethod
    def _classify(code: int, text, what: str) -> DeliveryResult:
        detail = f"{what} ({_smtp_text(code, text)})"
        if code == 421:  # smtplib has closed the connection: reconnect and retry
            raise _ConnectionLost(detail)
        return _permanent(detail) if code >= 500 else _transient(detail)


def _timed_out(exc: BaseException) -> bool:
    """smtplib reports a read timeout as SMTPServerDisconnected; the TimeoutError is its context."""
    return isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError)


def _smtp_text(code: int, text: bytes | str) -> str:
    return f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"
