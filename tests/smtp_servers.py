"""Real SMTP servers for the tests: aiosmtpd with scripted misbehaviour, and a silent one.

Besides refusing, dropping and stalling, a `ScriptedHandler` can answer every command
slowly (`latency`, like a relay across a network), throttle (`rate_cap`: N messages per
W seconds, then "451 4.7.0 … rate … exceeded"), and record when each message was
accepted. `SMTPServer` can require AUTH (`logins`: the credentials it accepts right now,
changeable while it runs), offer SMTPUTF8 or not, and count connections open at once.
"""
import asyncio
import email
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import Message

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult


@dataclass
class Received:
    recipient: str
    message: Message
    raw: bytes = b""
    mail_options: tuple = ()
    sender: str = ""  # the envelope's MAIL FROM (the return path)


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
    latency: float = 0.0  # every reply (EHLO, MAIL, RCPT, DATA) held this long
    rate_cap: tuple[int, float] | None = None  # (N, W): more than N messages in W seconds are throttled
    received: list[Received] = field(default_factory=list)
    accepted_at: list[float] = field(default_factory=list)
    throttled: int = 0
    connections: int = 0
    data_count: int = 0
    tempfailed: dict = field(default_factory=dict)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        await asyncio.sleep(self.latency)
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        await asyncio.sleep(self.latency)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        await asyncio.sleep(self.latency)
        if any(marker in address for marker in self.refuse):
            return "550 5.1.1 Mailbox unavailable"
        if any(marker in address for marker in self.tempfail):
            self.tempfailed[address] = self.tempfailed.get(address, 0) + 1
            if self.tempfailed[address] <= self.tempfail_times:
                return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.latency)
        self.data_count += 1
        n = self.data_count
        if self.rate_cap:
            limit, window = self.rate_cap
            now = time.time()
            if sum(1 for t in self.accepted_at if t > now - window) >= limit:
                self.throttled += 1
                return "451 4.7.0 Message submission rate for this client has exceeded the configured limit"
        if n in self.reply_421_on:
            return "421 4.3.2 Service shutting down, try again later"
        if n in self.drop_on:
            server.transport.close()
            return "250 never seen"
        if n in self.stall_on:
            await asyncio.sleep(self.stall_seconds)
        if self.reply_delay:
            await asyncio.sleep(self.reply_delay)
        raw = envelope.original_content or envelope.content
        parsed = email.message_from_bytes(raw)
        for recipient in envelope.rcpt_tos:
            self.received.append(Received(recipient, parsed, raw, tuple(envelope.mail_options), envelope.mail_from))
            self.accepted_at.append(time.time())
        return "250 Message accepted for delivery"

    @property
    def recipients(self) -> list[str]:
        return [r.recipient for r in self.received]


class _CountingSMTP(SMTP):
    """aiosmtpd's server protocol, counting the connections open at once."""

    def __init__(self, counter: "SMTPServer", *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.counter = counter

    def connection_made(self, transport):
        with self.counter.lock:
            self.counter.open_now += 1
            self.counter.peak_open = max(self.counter.peak_open, self.counter.open_now)
        super().connection_made(transport)

    def connection_lost(self, error):
        with self.counter.lock:
            self.counter.open_now -= 1
        super().connection_lost(error)


class _Controller(Controller):
    def __init__(self, owner: "SMTPServer", *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner

    def factory(self):
        return _CountingSMTP(self.owner, self.handler, **self.SMTP_kwargs)


class SMTPServer:
    """A running aiosmtpd server on a free local port.

    `logins`: if given, AUTH is required and only these (user, password) pairs succeed;
    change the set while it runs to refuse or accept. `smtputf8`: offer SMTPUTF8.
    """

    def __init__(self, handler: ScriptedHandler | None = None, logins: set | None = None, smtputf8: bool = False,
                 xoauth2: bool = False):
        """`xoauth2`: AUTH is required and XOAUTH2 (the handler's `auth_XOAUTH2`) is the only way in."""
        self.handler = handler or ScriptedHandler()
        self.port = free_port()
        self.lock = threading.Lock()
        self.open_now = self.peak_open = 0
        self.logins = logins
        self.login_attempts = 0
        auth = {} if logins is None else {"auth_required": True, "auth_require_tls": False,
                                          "authenticator": self._authenticate}
        if xoauth2:
            auth = {"auth_required": True, "auth_require_tls": False, "auth_exclude_mechanism": ["LOGIN", "PLAIN"]}
        self.controller = _Controller(self, self.handler, hostname="127.0.0.1", port=self.port,
                                      enable_SMTPUTF8=smtputf8, **auth)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        self.login_attempts += 1
        return AuthResult(success=(auth_data.login.decode(), auth_data.password.decode()) in self.logins,
                          handled=False)

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
