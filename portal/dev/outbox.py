"""A local SMTP catcher for the demo: aiosmtpd keeps what it receives in memory."""
import email
import email.policy
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage

from aiosmtpd.controller import Controller

KEEP = 2000


@dataclass
class CaughtEmail:
    number: int
    recipients: list[str]
    message: EmailMessage
    received_at: datetime

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    def body(self, subtype: str) -> str:
        part = self.message.get_body(preferencelist=(subtype,))
        return part.get_content() if part is not None else ""


class Outbox:
    """Thread-safe list of caught emails, newest first."""

    def __init__(self):
        self._lock = threading.Lock()
        self._emails: list[CaughtEmail] = []
        self._count = 0

    def add(self, recipients: list[str], raw: bytes) -> None:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with self._lock:
            self._count += 1
            self._emails.insert(0, CaughtEmail(self._count, list(recipients), message, datetime.now(timezone.utc)))
            del self._emails[KEEP:]

    def all(self) -> list[CaughtEmail]:
        with self._lock:
            return list(self._emails)

    def get(self, number: int) -> CaughtEmail | None:
        return next((e for e in self.all() if e.number == number), None)


class _Handler:
    def __init__(self, outbox: Outbox):
        self.outbox = outbox

    async def handle_DATA(self, server, session, envelope):
        self.outbox.add(envelope.rcpt_tos, envelope.original_content or envelope.content)
        return "250 Caught by the demo outbox"


def start_catcher(outbox: Outbox, port: int) -> Controller:
    controller = Controller(_Handler(outbox), hostname="127.0.0.1", port=port)
    controller.start()
    return controller
