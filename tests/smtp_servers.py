"""Real SMTP servers for the tests: aiosmtpd with scripted misbehaviour, and a silent one."""
import asyncio
import email
import socket
from dataclasses import dataclass, field
from email.message import Message

from aiosmtpd.controller import Controller


@dataclass
class Received:
    recipient: str
    message: Message


@dataclass
class ScriptedHandler:
    """Accepts mail, except: recipients containing a `refuse` marker get 550 at RCPT;
    the Nth DATA (1-based, counted over the server's life) may answer 421, drop the
    connection, or stall for `stall_seconds`."""

    refuse: tuple[str, ...] = ()
    tempfail: tuple[str, ...] = ()  # 451 at RCPT for these markers, `tempfail_times` times each
    tempfail_times: int = 10**6
    reply_421_on: set[int] = field(default_factory=set)
    drop_on: set[int] = field(default_factory=set)
    stall_on: set[int] = field(default_factory=set)
    stall_seconds: float = 5.0
    reply_delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    data_count: int = 0
    tempfailed: dict = field(default_factory=dict)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if any(marker in address for marker in self.refuse):
            return "550 5.1.1 Mailbox unavailable"
        if any(marker in address for marker in self.tempfail):
            self.tempfailed[address] = self.tempfailed.get(address, 0) + 1
            if self.tempfailed[address] <= self.tempfail_times:
                return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_count += 1
        n = self.data_count
        if n in self.reply_421_on:
            return "421 4.3.2 Service shutting down, try again later"
        if n in self.drop_on:
            server.transport.close()
            return "250 never seen"
        if n in self.stall_on:
            await asyncio.sleep(self.stall_seconds)
        if self.reply_delay:
            await asyncio.sleep(self.reply_delay)
        parsed = email.message_from_bytes(envelope.original_content or envelope.content)
        for recipient in envelope.rcpt_tos:
            self.received.append(Received(recipient, parsed))
        return "250 Message accepted for delivery"

    @property
    def recipients(self) -> list[str]:
        return [r.recipient for r in self.received]


class SMTPServer:
    """A running aiosmtpd server on a free local port."""

    def __init__(self, handler: ScriptedHandler | None = None):
        self.handler = handler or ScriptedHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> "SMTPServer":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


class SilentServer:
    """Accepts TCP connections (the kernel does) and never says a word: a stalled relay."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]

    def __enter__(self) -> "SilentServer":
        return self

    def __exit__(self, *exc) -> None:
        self.sock.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def parts(message: Message) -> dict[str, str]:
    """content type -> decoded text, for every leaf part."""
    return {
        part.get_content_type(): part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
        for part in message.walk()
        if not part.is_multipart()
    }
