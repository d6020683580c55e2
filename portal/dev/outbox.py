"""A local SMTP catcher for the demo: aiosmtpd keeps what it receives in memory.

It runs two relays (two sending accounts, as a university spreads its sending), which
share one outbox. They behave like real relays in the ways a newcomer should see: each
asks for its own login, they refuse two of the seeded students for good (550), greylist
a third once (451, so a retry shows in that email's history), and the first can be
switched to refusing logins from the outbox page (that relay then pauses, and the other
carries its emails until an admin resumes it).
"""
import email
import email.policy
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from portal.delivery import relays

KEEP = 2000


@dataclass
class CaughtEmail:
    number: int
    recipients: list[str]
    message: EmailMessage
    received_at: datetime
    relay: str

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    def body(self, subtype: str) -> str:
        part = self.message.get_body(preferencelist=(subtype,))
        return part.get_content() if part is not None else ""


REFUSED = ("student03@example.edu", "student07@example.edu")
GREYLISTED = ("student05@example.edu",)
RELAYS = ("campus", "backup")  # the first can be switched to refusing logins


class Outbox:
    """Thread-safe list of caught emails, newest first, and how the catcher behaves."""

    def __init__(self, password: str):
        self._lock = threading.Lock()
        self._emails: list[CaughtEmail] = []
        self._count = 0
        self.password = password
        self.refusing_logins = False  # the first relay's
        self.greylisted: set[str] = set()

    def add(self, recipients: list[str], raw: bytes, relay: str) -> None:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with self._lock:
            self._count += 1
            self._emails.insert(0, CaughtEmail(self._count, list(recipients), message, datetime.now(timezone.utc),
                                               relay))
            del self._emails[KEEP:]

    def all(self) -> list[CaughtEmail]:
        with self._lock:
            return list(self._emails)

    def get(self, number: int) -> CaughtEmail | None:
        return next((e for e in self.all() if e.number == number), None)


class _Handler:
    def __init__(self, outbox: Outbox, relay: str):
        self.outbox, self.relay = outbox, relay

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in REFUSED:
            return "550 5.1.1 Mailbox unavailable (the demo refuses this student)"
        if address in GREYLISTED and address not in self.outbox.greylisted:
            self.outbox.greylisted.add(address)
            return "451 4.7.1 Greylisted, try again later (the demo does this once)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.outbox.add(envelope.rcpt_tos, envelope.original_content or envelope.content, self.relay)
        return "250 Caught by the demo outbox"


def start_catchers(outbox: Outbox, ports: list[int]) -> list[Controller]:
    """One catcher per relay in RELAYS; each takes its own login (the relay's name, the outbox password)."""
    controllers = []
    for relay, port in zip(RELAYS, ports):
        def authenticate(server, session, envelope, mechanism, auth_data, relay=relay) -> AuthResult:
            refusing = outbox.refusing_logins and relay == RELAYS[0]
            ok = not refusing and (auth_data.login, auth_data.password) == (relay.encode(), outbox.password.encode())
            return AuthResult(success=ok, handled=False)

        # A local catcher on 127.0.0.1: the login goes without TLS, as it never leaves the machine.
        controller = Controller(_Handler(outbox, relay), hostname="127.0.0.1", port=port, auth_required=True,
                                auth_require_tls=False, authenticator=authenticate)
        controller.start()
        controllers.append(controller)
    return controllers


def relays_file(outbox: Outbox, ports: list[int]) -> str:
    """The MAIL_RELAYS_FILE for the catchers: what a university with two sending accounts writes."""
    return relays.as_toml([{"name": relay, "server": "127.0.0.1", "port": port, "username": relay,
                            "password": outbox.password, "sender": "attendance@example.edu", "connections": 4}
                           for relay, port in zip(RELAYS, ports)])
