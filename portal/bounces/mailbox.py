"""The bounce mailbox, over IMAP with verified TLS: its settings, and reading and filing its mail.

    BOUNCE_IMAP_URL=imaps://bounces%40attendance.example.edu:PASSWORD@imap.example.edu/INBOX

`imaps://` is TLS from the first byte (port 993), `imap://` is STARTTLS (port 143); either way
the server's certificate is checked against the system's CAs (SSL_CERT_FILE) and its name, and
nothing is sent before. The user and password are the URL's (percent-encoded); with
BOUNCE_IMAP_AUTH=xoauth2 the URL has no password and the portal signs in with an OAuth 2.0
token from BOUNCE_IMAP_OAUTH_* (Microsoft 365 and Google, as for a relay: `portal.delivery.oauth`).

Mail that has been read stays: a report is moved to BOUNCE_IMAP_PROCESSED_FOLDER (made if
missing), anything else is left where it is.
"""
import imaplib
import re
import ssl
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from portal.delivery import relays
from portal.delivery.oauth import AccessTokens, TokenUnavailable, xoauth2_response
from portal.delivery.relays import Relay
from portal.exceptions import ConfigurationError

SCHEMES = {"imaps": 993, "imap": 143}
OAUTH_SETTINGS = ("oauth_token_url", "oauth_client_id", "oauth_client_secret", "oauth_scope", "oauth_refresh_token")
FETCH_AT_ONCE = 50


class MailboxError(Exception):
    """The mailbox could not be reached, refused the portal, or answered what it should not: one line."""


@dataclass(frozen=True)
class MailboxSettings:
    host: str
    port: int
    implicit_tls: bool
    username: str
    folder: str
    processed_folder: str
    password: str | None = field(default=None, repr=False)
    auth: str = "password"
    oauth: dict = field(default_factory=dict, repr=False)  # the BOUNCE_IMAP_OAUTH_* values, as a relay names them
    timeout: float = 30

    @classmethod
    def from_config(cls, config) -> "MailboxSettings | None":
        """The mailbox of BOUNCE_IMAP_URL (None when unset); ConfigurationError, in one line, when wrong."""
        url = config.get("BOUNCE_IMAP_URL")
        if not url:
            return None
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise ConfigurationError(f"BOUNCE_IMAP_URL: {exc}") from None
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise ConfigurationError("BOUNCE_IMAP_URL must be imaps://user:password@host/folder (TLS) or "
                                     "imap://… (STARTTLS)")
        settings = cls(
            host=parts.hostname, port=port or SCHEMES[parts.scheme], implicit_tls=parts.scheme == "imaps",
            username=unquote(parts.username or ""), password=unquote(parts.password) if parts.password else None,
            folder=unquote(parts.path.lstrip("/")) or "INBOX",
            processed_folder=config.get("BOUNCE_IMAP_PROCESSED_FOLDER") or "Processed",
            auth=config.get("BOUNCE_IMAP_AUTH") or "password",
            oauth={key: config.get(f"BOUNCE_IMAP_{key.upper()}") for key in OAUTH_SETTINGS},
            timeout=float(config.get("MAIL_TIMEOUT_SECONDS") or 30))
        relays.check_sign_in({"auth": settings.auth, "username": settings.username, "password": settings.password,
                              **settings.oauth}, "BOUNCE_IMAP_URL", spell=_spell)
        if not settings.username:
            raise ConfigurationError("BOUNCE_IMAP_URL needs the mailbox's user: imaps://user@host/folder")
        if settings.folder == settings.processed_folder:
            raise ConfigurationError("BOUNCE_IMAP_PROCESSED_FOLDER must not be the folder the reports arrive in")
        return settings

    @property
    def account(self) -> str:
        """The mailbox in words, with no secret: logs, and the key of how far it has been read."""
        return f"{self.username}@{self.host}:{self.port}/{self.folder}"

    def tokens(self) -> AccessTokens | None:
        if self.auth != "xoauth2":
            return None
        # A relay that is never sent through: its name cannot be a configured relay's (see relays.NAME).
        account = Relay(name="(bounce mailbox)", server=self.host, port=self.port, username=self.username,
                        auth="xoauth2", **self.oauth)
        return AccessTokens.for_relay(account)


def _spell(key: str) -> str:
    return {"username": "the URL's user", "password": "the URL's password"}.get(key, f"BOUNCE_IMAP_{key.upper()}")


class Mailbox:
    """One signed-in session with the folder selected."""

    def __init__(self, imap: imaplib.IMAP4, settings: MailboxSettings, uidvalidity: int):
        self.imap, self.settings, self.uidvalidity = imap, settings, uidvalidity
        self._processed_ready = False

    def uids_after(self, last_uid: int) -> list[int]:
        """The UIDs of the messages that arrived after `last_uid`, oldest first."""
        found = self._ok(self.imap.uid("SEARCH", f"UID {last_uid + 1}:*"), "search the folder")
        # `n:*` always matches the newest message, even when its UID is below n.
        return sorted(uid for uid in (int(item) for item in b" ".join(found).split()) if uid > last_uid)

    def fetch(self, uids: list[int]) -> dict[int, bytes]:
        """Each message whole (FETCH_AT_ONCE at a time, say), without marking it read: a person
        may still want to see it."""
        messages = {}
        answer = self.imap.uid("FETCH", ",".join(str(uid) for uid in uids), "(UID BODY.PEEK[])")
        for item in self._ok(answer, "fetch messages"):
            if isinstance(item, tuple):
                found = re.search(rb"UID (\d+)", item[0])
                if found:
                    messages[int(found.group(1))] = item[1]
        return messages

    def file(self, uid: int) -> None:
        """Move a report to the processed folder (MOVE, or COPY and expunge where MOVE is missing)."""
        target = _quoted(self.settings.processed_folder)
        if not self._processed_ready:
            self.imap.create(target)  # "already exists" is fine
            self._processed_ready = True
        if "MOVE" in self.imap.capabilities:
            self._ok(self.imap.uid("MOVE", str(uid), target), "move a report")
            return
        self._ok(self.imap.uid("COPY", str(uid), target), "copy a report")
        self._ok(self.imap.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Deleted)"), "mark a report moved")
        if "UIDPLUS" in self.imap.capabilities:
            self._ok(self.imap.uid("EXPUNGE", str(uid)), "expunge a moved report")

    def _ok(self, answer: tuple, doing: str) -> list:
        status, data = answer
        if status != "OK":
            raise MailboxError(f"the bounce mailbox {self.settings.account} would not {doing}: "
                               f"{_said(data)}")
        return [item for item in data if item is not None]


@contextmanager
def opened(settings: MailboxSettings):
    """A Mailbox signed in over verified TLS with its folder selected; MailboxError in one line."""
    where = f"the bounce mailbox {settings.account}"
    context = ssl.create_default_context()
    try:
        if settings.implicit_tls:
            imap = imaplib.IMAP4_SSL(settings.host, settings.port, ssl_context=context, timeout=settings.timeout)
        else:
            imap = imaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout)
            imap.starttls(ssl_context=context)
    except (OSError, imaplib.IMAP4.error) as exc:  # refused, timed out, a certificate that does not check out
        raise MailboxError(f"{where} could not be reached safely: {exc}") from None
    try:
        _sign_in(imap, settings, where)
        # What the server offers once signed in (MOVE, UIDPLUS): imaplib kept what it said before.
        status, data = imap.capability()
        if status == "OK" and data and data[0]:
            imap.capabilities = tuple(data[0].decode("ascii", "replace").upper().split())
        status, data = imap.select(_quoted(settings.folder))
        if status != "OK":
            raise MailboxError(f"{where}: no folder {settings.folder!r} ({_said(data)})")
        uidvalidity = imap.response("UIDVALIDITY")[1]  # SELECT must say it (RFC 3501 6.3.1)
        if not uidvalidity or uidvalidity[0] is None:
            raise MailboxError(f"{where}: the server did not say the folder's UIDVALIDITY")
        yield Mailbox(imap, settings, int(uidvalidity[0]))
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"{where}: {exc}") from None
    finally:
        try:
            imap.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


def _sign_in(imap: imaplib.IMAP4, settings: MailboxSettings, where: str) -> None:
    tokens = settings.tokens()
    try:
        if tokens is None:
            imap.login(settings.username, settings.password or "")
            return
        token = tokens.get()
        try:
            imap.authenticate("XOAUTH2", lambda _: xoauth2_response(settings.username, token).encode())
        except imaplib.IMAP4.error:  # expired or revoked early: one new token, one more try
            token = tokens.renew(token)
            imap.authenticate("XOAUTH2", lambda _: xoauth2_response(settings.username, token).encode())
    except TokenUnavailable as exc:
        raise MailboxError(f"{where}: {exc}") from None
    except imaplib.IMAP4.error as exc:
        raise MailboxError(f"{where} refused the portal's sign-in: {_said([exc.args[0] if exc.args else exc])}") \
            from None


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _said(data) -> str:
    text = " ".join(item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)
                    for item in (data or []) if item is not None)
    return text[:200] or "no answer"
