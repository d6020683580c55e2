"""EmailSenderService: the seed's sender of attendance emails, over SMTP with Flask-Mail.

One connection per batch (`MAIL_BATCH_SIZE`); one bad message never stops a batch; a
dropped connection is reopened and the message tried once more. Delivery failures are
never raised: each is a `DeliveryResult` saying whether it is worth trying again.
The background pipeline sends through `portal.delivery` (many connections, pacing,
pause); both build and send each message the same way (`portal.delivery.messages`
and `portal.delivery.smtp`).
"""
import logging
from collections.abc import Callable, Iterable

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_mail import Mail

from portal.delivery import messages
from portal.delivery.oauth import AccessTokens
from portal.delivery.relays import Relay
from portal.delivery.smtp import CONNECTION_PROBLEMS, DeliveryResult, RelayConnection, permanent

log = logging.getLogger(__name__)

class EmailSenderService:
    def __init__(self, mail: "Mail | Relay", sender: str, batch_size: int = 50, timeout: float = 30,
                 tokens: AccessTokens | None = None):
        """`mail`: Flask-Mail's `Mail` or a `Relay` (the same settings); `tokens`: sign in with XOAUTH2."""
        self.mail = mail
        self.sender = sender
        self.batch_size = max(1, batch_size)
        self.timeout = timeout
        self.tokens = tokens
        self.domain = messages.sender_domain(sender)

    @classmethod
    def from_app(cls, app=None) -> "EmailSenderService":
        """Through the relay of the MAIL_* variables (with MAIL_AUTH=xoauth2, its OAuth 2.0 token)."""
        app = app or current_app
        relay = Relay.of(app.config)
        return cls(
            relay if relay.auth == "xoauth2" else app.extensions["mail"],
            app.config["MAIL_DEFAULT_SENDER"],
            app.config["MAIL_BATCH_SIZE"],
            app.config["MAIL_TIMEOUT_SECONDS"],
            tokens=AccessTokens.for_relay(relay),
        )

    def build_message(self, recipient_email: str, context: dict, message_id: str | None = None,
                      name: str = "", kind: str = "invitation", language: str | None = None,
                      return_path: str | None = None) -> messages.AttendanceEmail:
        return messages.build(recipient_email, name, context, message_id or messages.new_message_id(self.domain),
                              self.sender, kind, language, return_path)

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
            for email, result in self._send_batch(emails[start : start + self.batch_size]):
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
        relay = RelayConnection(self.mail, self.timeout, self.tokens)
        broken = None  # once the relay cannot be reached, the rest of the batch fails the same way
        try:
            for email in batch:
                message, problem = self.prepare(email)
                if problem or broken:
                    yield email, problem or broken
                    continue
                result = relay.send(message)
                if result.outcome in CONNECTION_PROBLEMS or relay.dropped_twice:
                    broken = result
                yield email, result
        finally:
            relay.close()

    def prepare(self, email: dict) -> tuple[messages.AttendanceEmail | None, DeliveryResult | None]:
        """The message, or the permanent reason it cannot be sent."""
        address = email["recipient_email"]
        try:
            validate_email(address, check_deliverability=False)
        except EmailNotValidError as exc:
            return None, permanent(f"Invalid email address: {exc}")
        try:
            message = self.build_message(address, email["context"], email.get("message_id"), email.get("name", ""),
                                         email.get("kind", "invitation"), email.get("language"),
                                         email.get("return_path"))
        except messages.BadHeaderError:
            return None, permanent("Refused to send: a header contains a line break")
        return message, None
