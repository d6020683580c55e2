"""One SMTP connection to the relay, and what each of its answers means.

Flask-Mail's connection opens it (server, port, TLS, login settings); sending is
smtplib's. What Flask-Mail leaves out is added here: a socket timeout (a silent relay
must not hang a job), a verifying TLS context (Flask-Mail calls `starttls()` without
one), one login attempt, and a classification of every answer:

    sent         250
    permanent    5xx, an invalid address, an address the relay cannot take: `failed` at once
    transient    other 4xx, a dropped connection, a timeout: tried again later
    throttled    the relay asks us to slow down: every worker slows for it, the student loses nothing
    login / tls  the relay refused our credentials or TLS failed: delivery pauses
    unreachable  no connection could be opened
"""
import functools
import logging
import os
import re
import smtplib
import ssl
from dataclasses import dataclass
from enum import StrEnum

from flask import current_app
from flask_mail import Connection, Mail, email_dispatched

from portal.delivery.messages import AttendanceEmail
from portal.delivery.oauth import AccessTokens, TokenUnavailable, xoauth2_response
from portal.delivery.relays import Relay

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    SENT = "sent"
    PERMANENT = "permanent"
    TRANSIENT = "transient"
    THROTTLED = "throttled"
    LOGIN = "login refused"
    TLS = "tls failed"
    UNREACHABLE = "unreachable"


# Connection-level outcomes: the relay, not the message, is the problem.
CONNECTION_PROBLEMS = {Outcome.LOGIN, Outcome.TLS, Outcome.UNREACHABLE}

_THROTTLE_CODES = {"4.7.0", "4.4.2", "4.3.2"}
_THROTTLE_TEXT = re.compile(r"rate|too many|throttl|try again later|slow down", re.IGNORECASE)
_ENHANCED = re.compile(r"^\s*([245]\.\d{1,3}\.\d{1,3})\b")


@dataclass(frozen=True)
class DeliveryResult:
    outcome: Outcome
    reason: str | None = None
    code: int | None = None  # the relay's reply code, when it answered
    reply: str | None = None  # and its text

    @property
    def sent(self) -> bool:
        return self.outcome == Outcome.SENT

    @property
    def transient(self) -> bool:
        """Worth trying again later (everything but sent and permanent)."""
        return self.outcome not in (Outcome.SENT, Outcome.PERMANENT)


SENT = DeliveryResult(Outcome.SENT, code=250)


def permanent(reason: str, code: int | None = None, reply: str | None = None) -> DeliveryResult:
    return DeliveryResult(Outcome.PERMANENT, reason, code, reply)


def classify(code: int, text: bytes | str, what: str) -> DeliveryResult:
    """What a relay's reply to one message means."""
    reply = _decode(text)
    reason = f"{what} ({code} {reply})"
    if code in (530, 535, 534, 538):  # authentication required / refused, mid-conversation
        return DeliveryResult(Outcome.LOGIN, reason, code, reply)
    if code >= 500:
        return DeliveryResult(Outcome.PERMANENT, reason, code, reply)
    if is_throttle(code, reply):
        return DeliveryResult(Outcome.THROTTLED, reason, code, reply)
    return DeliveryResult(Outcome.TRANSIENT, reason, code, reply)


def is_throttle(code: int, reply: str) -> bool:
    """A "slow down" reply. Greylisting says "try again later" too, but asks for a wait
    per message, not a slower queue: it stays an ordinary transient failure."""
    if not 400 <= code < 500 or "greylist" in reply.lower() or "graylist" in reply.lower():
        return False
    enhanced = _ENHANCED.match(reply)
    return bool((enhanced and enhanced.group(1) in _THROTTLE_CODES) or _THROTTLE_TEXT.search(reply))


@functools.lru_cache(maxsize=4)
def _tls_context(ca_file: str | None) -> ssl.SSLContext:
    """Loading the CA store costs ~20 ms: do it once per process (per SSL_CERT_FILE)."""
    return ssl.create_default_context()


class SafeConnection(Connection):
    """Flask-Mail's connection, with a timeout, a verifying TLS context and XOAUTH2.

    `mail` is Flask-Mail's `Mail` or a `Relay` (the same server, port, TLS and login settings);
    `tokens` signs in with OAuth 2.0 instead of the password (relays with `auth = "xoauth2"`)."""

    def __init__(self, mail: "Mail | Relay", timeout: float, tokens: AccessTokens | None = None):
        super().__init__(mail)
        self.timeout = timeout
        self.tokens = tokens

    def configure_host(self) -> smtplib.SMTP:
        context = _tls_context(os.environ.get("SSL_CERT_FILE")) if self.mail.use_ssl or self.mail.use_tls else None
        if self.mail.use_ssl:
            host = smtplib.SMTP_SSL(self.mail.server, self.mail.port, timeout=self.timeout, context=context)
        else:
            host = smtplib.SMTP(self.mail.server, self.mail.port, timeout=self.timeout)
        try:
            if self.mail.use_tls:
                host.starttls(context=context)
            host.ehlo_or_helo_if_needed()  # so the relay's extensions (AUTH, SMTPUTF8) are known
            if self.tokens is not None:
                _login_xoauth2(host, self.mail.username, self.tokens)
            elif self.mail.username and self.mail.password:
                _login_once(host, self.mail.username, self.mail.password)
        except BaseException:
            host.close()
            raise
        return host

    def send(self, email: AttendanceEmail) -> None:
        """One message to its one recipient, as built (no sanitising: an address only SMTPUTF8
        can carry goes as it is, with the SMTPUTF8 option)."""
        self.host.sendmail(email.sender, [email.recipient], email.as_bytes(), email.mail_options)
        email_dispatched.send(current_app._get_current_object(), message=email)

    def close(self) -> None:
        """Say goodbye if the server still listens; never raise."""
        if self.host is None:
            return
        try:
            self.host.quit()
        except (smtplib.SMTPException, OSError):
            self.host.close()
        self.host = None

    def __exit__(self, exc_type, exc_value, tb) -> None:
        self.close()


class _Lost(Exception):
    """The connection broke while sending; the message may go again on a new one."""

    def __init__(self, result: DeliveryResult):
        super().__init__(result.reason)
        self.result = result


class RelayConnection:
    """One connection to the relay, opened on first use, reused for many messages and
    reopened once when it drops. `send` never raises: every problem is a result."""

    def __init__(self, mail: "Mail | Relay", timeout: float, tokens: AccessTokens | None = None):
        self.mail = mail
        self.timeout = timeout
        self.connection = SafeConnection(mail, timeout, tokens)
        self.where = f"{mail.server}:{mail.port}"
        self.dropped_twice = False  # the last message lost two connections in a row: the relay is unwell

    @property
    def is_open(self) -> bool:
        return self.connection.host is not None

    def open(self) -> DeliveryResult | None:
        """Connect (TLS, login) unless connected; a connection-level result if that failed."""
        if self.connection.host is not None:
            return None
        try:
            self.connection.host = self.connection.configure_host()
            return None
        except TokenUnavailable as exc:
            return DeliveryResult(Outcome.LOGIN, f"No OAuth token for mail server {self.where}: {exc}")
        except smtplib.SMTPAuthenticationError as exc:
            reply = _decode(exc.smtp_error)
            what = "refused the OAuth token" if self.connection.tokens is not None else "refused the login"
            return DeliveryResult(Outcome.LOGIN, f"Mail server {self.where} {what} "
                                                 f"({exc.smtp_code} {reply})", exc.smtp_code, reply)
        except (ssl.SSLError, ssl.CertificateError, smtplib.SMTPNotSupportedError) as exc:
            return DeliveryResult(Outcome.TLS, f"TLS with mail server {self.where} failed ({exc})")
        except smtplib.SMTPResponseException as exc:
            reply = _decode(exc.smtp_error)
            return DeliveryResult(Outcome.UNREACHABLE, f"Mail server {self.where} refused the connection "
                                                       f"({exc.smtp_code} {reply})", exc.smtp_code, reply)
        except (smtplib.SMTPException, OSError) as exc:
            if _timed_out(exc):
                return DeliveryResult(Outcome.UNREACHABLE,
                                      f"Mail server {self.where} did not answer within {self.timeout:g} s")
            return DeliveryResult(Outcome.UNREACHABLE, f"Could not connect to mail server {self.where} ({exc})")

    def send(self, message: AttendanceEmail) -> DeliveryResult:
        """Send one message, reconnecting and trying once more after a lost connection."""
        self.dropped_twice = False
        for attempt in (1, 2):
            problem = self.open()
            if problem:
                return problem
            try:
                return self._send_once(message)
            except _Lost as lost:
                self.close()
                if attempt == 2:
                    self.dropped_twice = True
                    return lost.result
            except Exception as exc:  # a bug or a library surprise fails this message, not the batch
                log.exception("unexpected error sending to %s", message.recipient)
                self.close()
                return permanent(f"Not sent: unexpected error while sending ({type(exc).__name__}: {exc})")
        raise AssertionError("unreachable")

    def _send_once(self, message: AttendanceEmail) -> DeliveryResult:
        if message.international and not self.connection.host.has_extn("smtputf8"):
            return permanent(f"Not sent: the address {message.recipient} has non-ASCII characters and "
                             f"the mail server {self.where} does not accept such addresses (no SMTPUTF8)")
        try:
            self.connection.send(message)
            return SENT
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            result = classify(code, text, "Recipient refused by mail server")
        except smtplib.SMTPResponseException as exc:
            result = classify(exc.smtp_code, exc.smtp_error, "Mail server refused the message")
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            if _timed_out(exc):
                raise _Lost(DeliveryResult(Outcome.TRANSIENT,
                                           f"Mail server did not answer within {self.timeout:g} s")) from None
            raise _Lost(DeliveryResult(Outcome.TRANSIENT, "Mail server closed the connection")) from None
        if result.code == 421:  # the relay is closing this connection: reconnect and try again
            raise _Lost(result)
        return result

    def close(self) -> None:
        self.connection.close()


def _login_once(host: smtplib.SMTP, user: str, password: str) -> None:
    """One AUTH exchange with the best mechanism the relay offers. smtplib's `login` tries
    every mechanism in turn after a refusal, which doubles the refused logins a relay counts
    towards locking the account."""
    offered = host.esmtp_features.get("auth", "").upper().split()
    mechanism = next((m for m in ("CRAM-MD5", "PLAIN", "LOGIN") if m in offered), None)
    if mechanism is None:
        raise smtplib.SMTPAuthenticationError(530, "the mail server offers no login (AUTH) this portal can use; "
                                                   "many relays offer it only after STARTTLS (MAIL_USE_TLS)")
    host.user, host.password = user, password
    host.auth(mechanism, getattr(host, f"auth_{mechanism.lower().replace('-', '_')}"))


def _login_xoauth2(host: smtplib.SMTP, user: str, tokens: AccessTokens) -> None:
    """SASL XOAUTH2 with the account's shared token. Refused, the token may have been revoked or
    expired early: one more try with a new one; refused again, the relay refuses the OAuth token."""
    if "XOAUTH2" not in host.esmtp_features.get("auth", "").upper().split():
        raise smtplib.SMTPAuthenticationError(530, "the mail server offers no XOAUTH2 sign-in (auth = xoauth2); "
                                                   "many relays offer it only after STARTTLS (use_tls)")
    token = tokens.get()
    try:
        _auth_xoauth2(host, user, token)
    except smtplib.SMTPAuthenticationError:
        _auth_xoauth2(host, user, tokens.renew(token))


def _auth_xoauth2(host: smtplib.SMTP, user: str, token: str) -> None:
    # After a refusal the relay sends a 334 with its error (JSON); the empty reply ends the exchange.
    host.auth("XOAUTH2", lambda challenge=None: xoauth2_response(user, token) if challenge is None else "")


def _timed_out(exc: BaseException) -> bool:
    """smtplib reports a read timeout as SMTPServerDisconnected; the TimeoutError is its context."""
    return isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError)


def _decode(text: bytes | str) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
