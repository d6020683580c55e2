"""The relays (mail servers, or sending accounts on one) the portal sends through.

Without `MAIL_RELAYS_FILE` there is one relay, named `default`, made of the `MAIL_*`
variables. With it, each `[[relay]]` table of the TOML file is one relay:

    [[relay]]
    name = "m365-attendance"
    server = "smtp.office365.com"
    port = 587
    use_tls = true
    username = "attendance@example.edu"
    sender = "attendance@example.edu"
    auth = "xoauth2"
    oauth_token_url = "https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token"
    oauth_client_id = "…"
    oauth_client_secret = "…"
    oauth_scope = "https://outlook.office365.com/.default"
    rate_limit = "30/minute"
    daily_limit = 10000

Each relay keeps its own state in Redis under its name (the connection cap, the rate
window, the pace it asked for, its pause, what it sent): a relay that said "slow down"
or refused our login must not slow or stop another one. The file is read and checked
once, at start-up, with a one-line refusal for anything wrong in it.
"""
import json
import re
import tomllib
from dataclasses import dataclass, field, fields

from flask import current_app

from portal.exceptions import ConfigurationError

PREFIX = "portal:delivery:relay"
DEFAULT_NAME = "default"
AUTH_METHODS = ("password", "xoauth2")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")  # shown on pages, typed on the command line


@dataclass(frozen=True)
class Relay:
    """One relay and its own limits. Secrets are left out of its repr, so a relay can be logged."""

    name: str
    server: str = "localhost"
    port: int = 25
    use_tls: bool = False
    use_ssl: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    auth: str = "password"
    oauth_token_url: str | None = None
    oauth_client_id: str | None = None
    oauth_client_secret: str | None = field(default=None, repr=False)
    oauth_scope: str | None = None
    oauth_refresh_token: str | None = field(default=None, repr=False)
    sender: str = "no-reply@localhost"
    connections: int = 20  # SMTP connections one worker keeps busy through this relay
    max_connections: int | None = None  # across all workers; None: no cap
    rate_limit: str = ""  # N/second|minute|hour across all workers; "": none
    daily_limit: int | None = None  # messages in any 24 hours; None: none

    @classmethod
    def of(cls, config) -> "Relay":
        """The one relay of the `MAIL_*` variables."""
        return cls(
            name=DEFAULT_NAME, server=str(config["MAIL_SERVER"]), port=int(config["MAIL_PORT"]),
            use_tls=bool(config.get("MAIL_USE_TLS")), use_ssl=bool(config.get("MAIL_USE_SSL")),
            username=config.get("MAIL_USERNAME") or None, password=config.get("MAIL_PASSWORD") or None,
            auth=config.get("MAIL_AUTH") or "password",
            oauth_token_url=config.get("MAIL_OAUTH_TOKEN_URL") or None,
            oauth_client_id=config.get("MAIL_OAUTH_CLIENT_ID") or None,
            oauth_client_secret=config.get("MAIL_OAUTH_CLIENT_SECRET") or None,
            oauth_scope=config.get("MAIL_OAUTH_SCOPE") or None,
            oauth_refresh_token=config.get("MAIL_OAUTH_REFRESH_TOKEN") or None,
            sender=config.get("MAIL_DEFAULT_SENDER") or "no-reply@localhost",
            connections=int(config.get("MAIL_CONNECTIONS") or 20),
            max_connections=config.get("MAIL_MAX_CONNECTIONS") or None,
            rate_limit=config.get("MAIL_RATE_LIMIT") or "",
        )

    def key(self, name: str) -> str:
        """The Redis key of this relay's `name` (connections, rate, pace, paused, ...)."""
        return f"{PREFIX}:{self.name}:{name}"

    @property
    def where(self) -> str:
        return f"{self.server}:{self.port}" + (f" ({self.username})" if self.username else "")

    def __str__(self) -> str:
        """For logs and the audit trail: the one relay of the MAIL_* variables by its server, a named one
        by its name and server."""
        return self.where if self.name == DEFAULT_NAME else f"{self.name} ({self.where})"


def configured(config=None) -> list[Relay]:
    """Every relay the portal sends through, in the file's order (at least one)."""
    config = current_app.config if config is None else config
    tables = config.get("MAIL_RELAYS")
    if not tables:
        return [Relay.of(config)]
    return [_from_table(table, config) for table in tables]


def named(name: str, config=None) -> Relay | None:
    return next((relay for relay in configured(config) if relay.name == name), None)


def _from_table(table: dict, config) -> Relay:
    values = dict(table)
    values.setdefault("sender", config.get("MAIL_DEFAULT_SENDER") or "no-reply@localhost")
    values.setdefault("connections", int(config.get("MAIL_CONNECTIONS") or 20))
    return Relay(**values)


# --- the file -----------------------------------------------------------------------------

_TYPES = {"name": str, "server": str, "port": int, "use_tls": bool, "use_ssl": bool, "username": str,
          "password": str, "auth": str, "oauth_token_url": str, "oauth_client_id": str,
          "oauth_client_secret": str, "oauth_scope": str, "oauth_refresh_token": str, "sender": str,
          "connections": int, "max_connections": int, "rate_limit": str, "daily_limit": int}
assert set(_TYPES) == {f.name for f in fields(Relay)}


def as_toml(tables: list[dict]) -> str:
    """`[[relay]]` tables as MAIL_RELAYS_FILE holds them (what `read_file` reads): for the demo's
    relays, the tests' and the benchmarks'."""
    def value(item) -> str:
        return str(item).lower() if isinstance(item, bool) else json.dumps(item)

    return "".join("[[relay]]\n" + "".join(f"{key} = {value(item)}\n" for key, item in table.items()) + "\n"
                   for table in tables)


def read_file(path: str) -> list[dict]:
    """The `[[relay]]` tables of `path`, each checked; ConfigurationError (one line) otherwise."""
    where = f"MAIL_RELAYS_FILE {path}"
    try:
        with open(path, "rb") as file:
            document = tomllib.load(file)
    except OSError as exc:
        raise ConfigurationError(f"{where}: cannot be read ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{where}: not valid TOML ({exc})") from None
    extra = set(document) - {"relay"}
    if extra:
        raise ConfigurationError(f"{where}: only [[relay]] tables belong here, found {', '.join(sorted(extra))}")
    tables = document.get("relay")
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        raise ConfigurationError(f"{where}: no [[relay]] tables (each needs at least a name and a server)")
    seen_names, seen_accounts = set(), {}
    for number, table in enumerate(tables, start=1):
        check_table(table, f"{where}: relay {table.get('name') or number}")
        if table["name"] in seen_names:
            raise ConfigurationError(f"{where}: two relays are named {table['name']!r}")
        seen_names.add(table["name"])
        account = (table["server"].lower(), table.get("port", 25), (table.get("username") or "").lower())
        if account in seen_accounts:
            raise ConfigurationError(f"{where}: relays {seen_accounts[account]!r} and {table['name']!r} are the same "
                                     f"account on the same server (one relay each, or their limits would clash)")
        seen_accounts[account] = table["name"]
    return tables


def check_table(table: dict, where: str) -> None:
    """One relay's settings: known keys of the right types, the secrets its sign-in needs."""
    from portal.delivery.pacing import parse_rate

    unknown = sorted(set(table) - set(_TYPES))
    if unknown:
        raise ConfigurationError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(_TYPES)})")
    for key, value in table.items():
        expected = _TYPES[key]
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigurationError(f"{where}: {key} must be {_TYPE_WORDS[expected]}, got {value!r}")
    for key in ("name", "server"):
        if not str(table.get(key) or "").strip():
            raise ConfigurationError(f"{where}: {key} is missing")
    if not NAME.match(table["name"]):
        raise ConfigurationError(f"{where}: the name may hold letters, digits, '.', '-' and '_' (up to 40), "
                                 f"got {table['name']!r}")
    check_sign_in(table, where)
    if not 1 <= table.get("port", 25) <= 65535:
        raise ConfigurationError(f"{where}: port must be from 1 to 65535")
    if table.get("use_tls") and table.get("use_ssl"):
        raise ConfigurationError(f"{where}: use_tls (STARTTLS) and use_ssl (TLS from the start) exclude each other")
    for key in ("connections", "max_connections", "daily_limit"):
        if key in table and table[key] < 1:
            raise ConfigurationError(f"{where}: {key} must be at least 1 (leave it out for no limit)")
    try:
        parse_rate(table.get("rate_limit", ""))
    except ValueError as exc:
        raise ConfigurationError(f"{where}: rate_limit: {exc}") from None


def check_sign_in(values: dict, where: str, spell=lambda key: key) -> None:
    """`auth` is known and its secrets are there: a file's table, or the MAIL_* values in lower
    case without the prefix (`spell` then names them as the variables they came from)."""
    auth = values.get("auth") or "password"
    if auth not in AUTH_METHODS:
        raise ConfigurationError(f"{where}: {spell('auth')} must be {' or '.join(AUTH_METHODS)}, got {auth!r}")
    if auth == "password":
        if bool(values.get("username")) != bool(values.get("password")):
            missing = "password" if values.get("username") else "username"
            raise ConfigurationError(f"{where}: a login needs both {spell('username')} and {spell('password')} "
                                     f"({spell(missing)} is missing)")
        return
    needed = ["username", "oauth_token_url", "oauth_client_id"]
    if not values.get("oauth_refresh_token"):
        needed.append("oauth_client_secret")  # client credentials; a refresh token may come from a public client
    missing = [spell(key) for key in needed if not values.get(key)]
    if missing:
        raise ConfigurationError(f"{where}: xoauth2 needs {', '.join(missing)} ({spell('username')} is the mailbox "
                                 f"that signs in)")
    if not str(values["oauth_token_url"]).startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise ConfigurationError(f"{where}: {spell('oauth_token_url')} must be https:// (the client secret "
                                 f"travels to it)")


_TYPE_WORDS = {str: "a string", int: "a whole number", bool: "true or false"}
