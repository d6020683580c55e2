"""Configuration: one class per mode, every value read from the environment.

`PORTAL_ENV` picks the mode: `production` (the default, refuses to start without
real secrets), `development` (demo) or `testing`.
"""
import json
import os
import secrets
import shutil
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from portal.exceptions import ConfigurationError

KNOWN_DEFAULT_SECRETS = {"", "dev", "secret", "changeme", "change-me", "secret-key", "your-secret-key"}
MIN_SECRET_BYTES = 32
# The range of a session's radius around its point (the session forms hold to it too).
MIN_RADIUS_METRES, MAX_RADIUS_METRES = 10, 1000


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, got {value!r}") from None


def _env_optional_int(name: str) -> int | None:
    """A whole number, or None when the variable is unset or empty."""
    return _env_int(name, None) if os.environ.get(name, "").strip() else None


def _env_int_list(name: str) -> list[int]:
    try:
        return [int(item) for item in _env_list(name)]
    except ValueError:
        raise ConfigurationError(f"{name} must be comma-separated whole numbers of seconds, "
                                 f"got {os.environ.get(name)!r}") from None


def check_settings(config: dict) -> None:
    """Settings every mode needs right, checked once at start-up with one readable line."""
    from portal.delivery import relays
    from portal.delivery.messages import SAMPLE_EMAIL_CONTEXT, subject_line
    from portal.delivery.pacing import parse_rate

    try:
        ZoneInfo(config["PORTAL_TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError, OSError):  # unknown, malformed, a folder of zones
        raise ConfigurationError(f"PORTAL_TIMEZONE must be an IANA time zone such as Europe/London or "
                                 f"Africa/Nairobi, got {config['PORTAL_TIMEZONE']!r}") from None

    try:
        parse_rate(config["MAIL_RATE_LIMIT"])
    except ValueError as exc:
        raise ConfigurationError(f"MAIL_RATE_LIMIT: {exc}") from None
    if config.get("MAIL_RELAYS_FILE"):
        config["MAIL_RELAYS"] = relays.read_file(config["MAIL_RELAYS_FILE"])
    else:
        settings = {key[len("MAIL_"):].lower(): value for key, value in config.items() if key.startswith("MAIL_")}
        relays.check_sign_in(settings, "Mail settings", spell=lambda key: f"MAIL_{key.upper()}")
    delays = config["MAIL_RETRY_DELAYS"]
    if not delays or any(delay < 0 for delay in delays) or delays[-1] < 1:
        raise ConfigurationError("MAIL_RETRY_DELAYS must be delays in seconds, the last at least 1 "
                                 "(it repeats until the link expires)")
    try:
        subject = subject_line(config["EMAIL_SUBJECT_TEMPLATE"] or "", SAMPLE_EMAIL_CONTEXT)
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise ConfigurationError(f"EMAIL_SUBJECT_TEMPLATE: {type(exc).__name__} {exc}; use placeholders "
                                 f"such as {{course_name}}: {', '.join(sorted(SAMPLE_EMAIL_CONTEXT))}") from None
    if "\n" in subject or "\r" in subject:
        raise ConfigurationError("EMAIL_SUBJECT_TEMPLATE must be one line")
    for name in ("MAIL_CONNECTIONS", "MAIL_PAUSE_PROBE_SECONDS", "MAIL_BATCH_SIZE"):
        if config[name] < 1:
            raise ConfigurationError(f"{name} must be at least 1")
    late = config["ATTENDANCE_LATE_AFTER_MINUTES"]
    if late is not None and late < 0:
        raise ConfigurationError("ATTENDANCE_LATE_AFTER_MINUTES must be a number of minutes (0 or more), "
                                 "or empty for never late")
    for name, low, high in (("TOKEN_GRACE_MINUTES", 0, 24 * 60), ("ATTENDANCE_OPENS_MINUTES_BEFORE", 0, 24 * 60),
                            ("ATTENDANCE_RADIUS_METRES", MIN_RADIUS_METRES, MAX_RADIUS_METRES),
                            ("ATTENDANCE_MAX_ACCURACY_METRES", 1, 10_000)):
        if not low <= config[name] <= high:
            raise ConfigurationError(f"{name} must be a whole number from {low} to {high}")
    _check_sign_in(config)
    _check_languages(config)
    if config.get("METRICS_TOKEN") and len(config["METRICS_TOKEN"]) < 32:
        raise ConfigurationError("METRICS_TOKEN must be at least 32 characters: generate one with "
                                 "python -c \"import secrets; print(secrets.token_urlsafe(32))\"")
    _check_bounces(config)
    if not 0 <= config["REGISTER_LOW_ATTENDANCE"] <= 100:
        raise ConfigurationError("REGISTER_LOW_ATTENDANCE must be a percentage from 0 to 100")


def _check_bounces(config: dict) -> None:
    from portal.bounces import verp
    from portal.bounces.mailbox import MailboxSettings

    if config.get("MAIL_RETURN_PATH"):
        verp.check(config["MAIL_RETURN_PATH"])
    if config.get("BOUNCE_IMAP_URL"):
        if not config.get("MAIL_RETURN_PATH"):
            raise ConfigurationError("BOUNCE_IMAP_URL needs MAIL_RETURN_PATH: without it a bounce report cannot "
                                     "say which email it is about")
        MailboxSettings.from_config(config)
    if config["BOUNCE_POLL_SECONDS"] < 10:
        raise ConfigurationError("BOUNCE_POLL_SECONDS must be at least 10")


def _check_languages(config: dict) -> None:
    from portal import languages

    for code in config["PORTAL_LANGUAGES"]:
        if not languages.known(code):
            raise ConfigurationError(f"PORTAL_LANGUAGES: {code!r} is not a language code such as en, sw or fr")
    if config["PORTAL_DEFAULT_LANGUAGE"] not in config["PORTAL_LANGUAGES"]:
        raise ConfigurationError(f"PORTAL_DEFAULT_LANGUAGE ({config['PORTAL_DEFAULT_LANGUAGE']!r}) must be one of "
                                 f"PORTAL_LANGUAGES ({', '.join(config['PORTAL_LANGUAGES'])})")


def _check_sign_in(config: dict) -> None:
    """The university sign-in's settings: all three OpenID Connect ones or none, over HTTPS (plain
    HTTP only on this machine), and what SSO_AUTO_CREATE may create."""
    oidc = ("SSO_OIDC_METADATA_URL", "SSO_OIDC_CLIENT_ID", "SSO_OIDC_CLIENT_SECRET")
    given = [name for name in oidc if config.get(name)]
    if given and len(given) != len(oidc):
        missing = ", ".join(name for name in oidc if name not in given)
        raise ConfigurationError(f"OpenID Connect sign-in needs {', '.join(oidc)}: {missing} is not set")
    if given:
        url = urlsplit(config["SSO_OIDC_METADATA_URL"])
        local = url.hostname in ("localhost", "127.0.0.1", "::1")
        if url.scheme != "https" and not (url.scheme == "http" and local):
            raise ConfigurationError("SSO_OIDC_METADATA_URL must be an https:// address (the provider's "
                                     f".well-known/openid-configuration), got {config['SSO_OIDC_METADATA_URL']!r}")
    saml = config.get("SSO_SAML_IDP_METADATA")
    if saml:
        if not saml.startswith("https://") and not Path(saml).is_file():
            raise ConfigurationError(f"SSO_SAML_IDP_METADATA must be the identity provider's metadata file or an "
                                     f"https:// address, got {saml!r}")
        for name in ("SSO_SAML_SP_CERT_FILE", "SSO_SAML_SP_KEY_FILE"):
            if not config.get(name) or not Path(config[name]).is_file():
                raise ConfigurationError(f"SAML sign-in needs {name}: this portal's PEM file "
                                         f"({config.get(name)!r} is not a readable file)")
        if not shutil.which("xmlsec1"):
            raise ConfigurationError("SAML sign-in needs xmlsec1 to check signatures: apt-get install xmlsec1")
    if not config.get("PASSWORD_SIGN_IN", True) and not (given or saml):
        raise ConfigurationError("PASSWORD_SIGN_IN=false needs a university sign-in (SSO_OIDC_… or SSO_SAML_…): "
                                 "nobody could sign in otherwise")
    if config.get("SSO_AUTO_CREATE") not in ("", "lecturer"):
        raise ConfigurationError("SSO_AUTO_CREATE must be empty (only existing staff accounts sign in) or lecturer "
                                 f"(admins are never created by signing in), got {config['SSO_AUTO_CREATE']!r}")


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


class Config:
    """Production settings, and what every mode shares; `from_env` reads them."""

    ENV_NAME = "production"
    TESTING = False

    @classmethod
    def from_env(cls) -> dict:
        return {
            "ENV_NAME": cls.ENV_NAME,
            "TESTING": cls.TESTING,
            "SECRET_KEY": os.environ.get("SECRET_KEY"),
            "JWT_SECRET_KEY": os.environ.get("JWT_SECRET_KEY"),
            "JWT_SECRET_KEY_FALLBACKS": _env_list("JWT_SECRET_KEY_FALLBACKS"),
            "TOKEN_EXPIRY_MINUTES": _env_int("TOKEN_EXPIRY_MINUTES", 60),
            # A link works at least this long after its session ends (the seed: "expiry should be
            # after session ends"); it expires at the later of this and the start + TOKEN_EXPIRY_MINUTES.
            "TOKEN_GRACE_MINUTES": _env_int("TOKEN_GRACE_MINUTES", 15),
            "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or None,
            "INSTANCE_PATH": os.environ.get("PORTAL_INSTANCE_PATH") or None,
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            "RQ_QUEUE_NAME": os.environ.get("RQ_QUEUE_NAME", "portal"),
            "MAIL_SERVER": os.environ.get("MAIL_SERVER", "localhost"),
            "MAIL_PORT": _env_int("MAIL_PORT", 25),
            "MAIL_USE_TLS": _env_bool("MAIL_USE_TLS", False),
            "MAIL_USE_SSL": _env_bool("MAIL_USE_SSL", False),
            "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
            "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
            "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "no-reply@localhost"),
            "MAIL_BATCH_SIZE": _env_int("MAIL_BATCH_SIZE", 50),
            "MAIL_TIMEOUT_SECONDS": _env_int("MAIL_TIMEOUT_SECONDS", 30),
            # SMTP connections one worker keeps busy at once (each reused for many messages).
            "MAIL_CONNECTIONS": _env_int("MAIL_CONNECTIONS", 20),
            # Cap on connections open at once across all workers (0: none), counted in Redis.
            "MAIL_MAX_CONNECTIONS": _env_int("MAIL_MAX_CONNECTIONS", 0) or None,
            # N/second, N/minute or N/hour across all workers; empty: no limit.
            "MAIL_RATE_LIMIT": os.environ.get("MAIL_RATE_LIMIT", "").strip(),
            # How the portal signs in to the relay: `password`, or `xoauth2` (OAuth 2.0, see README).
            "MAIL_AUTH": os.environ.get("MAIL_AUTH", "").strip().lower() or "password",
            "MAIL_OAUTH_TOKEN_URL": os.environ.get("MAIL_OAUTH_TOKEN_URL") or None,
            "MAIL_OAUTH_CLIENT_ID": os.environ.get("MAIL_OAUTH_CLIENT_ID") or None,
            "MAIL_OAUTH_CLIENT_SECRET": os.environ.get("MAIL_OAUTH_CLIENT_SECRET") or None,
            "MAIL_OAUTH_SCOPE": os.environ.get("MAIL_OAUTH_SCOPE") or None,
            "MAIL_OAUTH_REFRESH_TOKEN": os.environ.get("MAIL_OAUTH_REFRESH_TOKEN") or None,
            # Several relays or sending accounts, each with its own limits (portal.delivery.relays);
            # when set, it replaces the one relay of the MAIL_* variables above.
            "MAIL_RELAYS_FILE": os.environ.get("MAIL_RELAYS_FILE") or None,
            # Waits before the 2nd, 3rd, … attempt; the last repeats until the link expires.
            "MAIL_RETRY_DELAYS": _env_int_list("MAIL_RETRY_DELAYS") or [60, 300],
            # While delivery is paused, how often a worker tries the relay (one login).
            "MAIL_PAUSE_PROBE_SECONDS": _env_int("MAIL_PAUSE_PROBE_SECONDS", 60),
            "SWEEP_INTERVAL_SECONDS": _env_int("SWEEP_INTERVAL_SECONDS", 60),
            "SENDING_TIMEOUT_SECONDS": _env_int("SENDING_TIMEOUT_SECONDS", 600),
            # A pending row untouched this long is re-enqueued by the sweep.
            "PENDING_STALE_SECONDS": _env_int("PENDING_STALE_SECONDS", 300),
            "PORTAL_BASE_URL": os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
            "PORTAL_TIMEZONE": os.environ.get("PORTAL_TIMEZONE", "UTC"),
            # The languages students and staff can read the portal in (portal.languages), and the one
            # for whoever has not chosen.
            "PORTAL_LANGUAGES": [code.lower() for code in _env_list("PORTAL_LANGUAGES")] or ["en", "sw", "fr"],
            "PORTAL_DEFAULT_LANGUAGE": (os.environ.get("PORTAL_DEFAULT_LANGUAGE") or "en").strip().lower(),
            "RATELIMIT_ENABLED": _env_bool("RATELIMIT_ENABLED", True),
            # Counted in the queue's Redis (shared by all web processes; see load_settings);
            # if Redis is down, each process counts for itself until it is back.
            "RATELIMIT_SWALLOW_ERRORS": True,
            "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
            "RATELIMIT_STRATEGY": "moving-window",  # a lockout lasts until the oldest failure is old enough
            "RATELIMIT_KEY_PREFIX": "portal-ratelimit",
            "ATTENDANCE_RATE_LIMIT": os.environ.get("ATTENDANCE_RATE_LIMIT", "120 per minute"),
            "ATTENDANCE_TOKEN_RATE_LIMIT": os.environ.get("ATTENDANCE_TOKEN_RATE_LIMIT", "10 per minute"),
            # The new-session form's default for "students must scan their student card".
            "ATTENDANCE_REQUIRE_ID_SCAN": _env_bool("ATTENDANCE_REQUIRE_ID_SCAN", False),
            # The attendance email's subject, with the templates' placeholders ({course_name}, …), in
            # every language; None: the seed's ("Attendance Session Created: {course_name}"), translated.
            "EMAIL_SUBJECT_TEMPLATE": os.environ.get("EMAIL_SUBJECT_TEMPLATE", "").strip() or None,
            "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
            # Requests for a password reset link per client network, and per address asked about.
            "PASSWORD_RESET_RATE_LIMIT": os.environ.get("PASSWORD_RESET_RATE_LIMIT", "10 per hour"),
            "PASSWORD_RESET_ACCOUNT_RATE_LIMIT": os.environ.get("PASSWORD_RESET_ACCOUNT_RATE_LIMIT", "3 per hour"),
            # Staff sign-in through the university's OpenID Connect provider (portal.auth.oidc): its
            # discovery document (…/.well-known/openid-configuration) and this portal's client there.
            "SSO_OIDC_METADATA_URL": os.environ.get("SSO_OIDC_METADATA_URL") or None,
            "SSO_OIDC_CLIENT_ID": os.environ.get("SSO_OIDC_CLIENT_ID") or None,
            "SSO_OIDC_CLIENT_SECRET": os.environ.get("SSO_OIDC_CLIENT_SECRET") or None,
            # `lecturer`: a university account with no staff account here becomes a lecturer at its
            # first sign-in; empty: only existing, active staff accounts get in.
            "SSO_AUTO_CREATE": os.environ.get("SSO_AUTO_CREATE", "").strip().lower(),
            # GET /metrics answers only with `Authorization: Bearer <METRICS_TOKEN>`; unset: 404.
            "METRICS_TOKEN": os.environ.get("METRICS_TOKEN", "").strip() or None,
            # Late bounces (portal.bounces): each email's return path, bounces+{token}@…; the mailbox
            # they arrive in, read every BOUNCE_POLL_SECONDS by a worker; where reports are filed.
            "MAIL_RETURN_PATH": os.environ.get("MAIL_RETURN_PATH", "").strip() or None,
            "BOUNCE_IMAP_URL": os.environ.get("BOUNCE_IMAP_URL", "").strip() or None,
            "BOUNCE_IMAP_PROCESSED_FOLDER": os.environ.get("BOUNCE_IMAP_PROCESSED_FOLDER", "").strip() or "Processed",
            "BOUNCE_POLL_SECONDS": _env_int("BOUNCE_POLL_SECONDS", 60),
            "BOUNCE_IMAP_AUTH": os.environ.get("BOUNCE_IMAP_AUTH", "").strip() or "password",
            **{f"BOUNCE_IMAP_OAUTH_{name}": os.environ.get(f"BOUNCE_IMAP_OAUTH_{name}") or None
               for name in ("TOKEN_URL", "CLIENT_ID", "CLIENT_SECRET", "SCOPE", "REFRESH_TOKEN")},
            # Staff sign-in through a SAML 2.0 identity provider (portal.auth.saml): its metadata (a file,
            # or an https:// address), this portal's own certificate and key, and the email attribute.
            "SSO_SAML_IDP_METADATA": os.environ.get("SSO_SAML_IDP_METADATA") or None,
            "SSO_SAML_SP_CERT_FILE": os.environ.get("SSO_SAML_SP_CERT_FILE") or None,
            "SSO_SAML_SP_KEY_FILE": os.environ.get("SSO_SAML_SP_KEY_FILE") or None,
            "SSO_SAML_EMAIL_ATTRIBUTE": os.environ.get("SSO_SAML_EMAIL_ATTRIBUTE") or "urn:oid:0.9.2342.19200300.100.1.3",
            # false: staff sign in only with the university account, except the one break-glass admin
            # named by PASSWORD_SIGN_IN_ADMIN (for the day the university's sign-in is down).
            "PASSWORD_SIGN_IN": _env_bool("PASSWORD_SIGN_IN", True),
            "PASSWORD_SIGN_IN_ADMIN": (os.environ.get("PASSWORD_SIGN_IN_ADMIN") or "").strip().lower() or None,
            # Failed sign-ins per account and client network before it is locked from there.
            "LOGIN_ACCOUNT_RATE_LIMIT": os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT", "5 per 15 minutes"),
            # ... and per account from any address (a ceiling on guessing from many addresses).
            "LOGIN_ACCOUNT_CEILING": os.environ.get("LOGIN_ACCOUNT_CEILING", "50 per hour"),
            # The largest request body, in bytes (0: the portal's 1 MB; the import takes 16 MB).
            "MAX_CONTENT_LENGTH": _env_int("MAX_CONTENT_LENGTH", 0) or None,
            # Reverse proxies in front of the portal whose X-Forwarded-* headers are trusted.
            "TRUSTED_PROXIES": _env_int("TRUSTED_PROXIES", 0),
            # Confirmation opens this many minutes before the session starts.
            "ATTENDANCE_OPENS_MINUTES_BEFORE": _env_int("ATTENDANCE_OPENS_MINUTES_BEFORE", 0),
            # The new-session form's default radius around the session's point.
            "ATTENDANCE_RADIUS_METRES": _env_int("ATTENDANCE_RADIUS_METRES", 30),
            # A phone whose position is known only this roughly (its 95% radius, in metres) is
            # asked for a better fix instead of being let in on the benefit of the doubt.
            "ATTENDANCE_MAX_ACCURACY_METRES": _env_int("ATTENDANCE_MAX_ACCURACY_METRES", 150),
            # A link confirmation this many minutes after the start is `late`; empty: never.
            "ATTENDANCE_LATE_AFTER_MINUTES": _env_optional_int("ATTENDANCE_LATE_AFTER_MINUTES"),
            # The course register highlights students whose attendance rate is below this (percent).
            "REGISTER_LOW_ATTENDANCE": _env_int("REGISTER_LOW_ATTENDANCE", 75),
            # This many confirmations from one IP within a minute are flagged for review.
            "CLUSTER_THRESHOLD": _env_int("CLUSTER_THRESHOLD", 3),
            # A database that stops answering fails a page in seconds instead of hanging it
            # (see portal.database.engine_options); 0 turns the statement timeout off.
            "DATABASE_CONNECT_TIMEOUT_SECONDS": _env_int("DATABASE_CONNECT_TIMEOUT_SECONDS", 5),
            "DATABASE_STATEMENT_TIMEOUT_SECONDS": _env_int("DATABASE_STATEMENT_TIMEOUT_SECONDS", 30),
        }

    @staticmethod
    def check(config: dict) -> None:
        """Refuse to run production without real, distinct secrets. A fallback key still
        opens links, so each one is held to the same rules as JWT_SECRET_KEY."""
        keys = [("SECRET_KEY", config.get("SECRET_KEY")), ("JWT_SECRET_KEY", config.get("JWT_SECRET_KEY"))]
        keys += [(f"JWT_SECRET_KEY_FALLBACKS (key {n})", key)
                 for n, key in enumerate(config.get("JWT_SECRET_KEY_FALLBACKS") or [], start=1)]
        for name, value in keys:
            value = value or ""
            if value.strip().lower() in KNOWN_DEFAULT_SECRETS:
                raise ConfigurationError(f"{name} must be set to a real secret in production")
            if len(value.encode()) < MIN_SECRET_BYTES:
                raise ConfigurationError(f"{name} must be at least {MIN_SECRET_BYTES} bytes long")
            if name != "SECRET_KEY" and value == config.get("SECRET_KEY"):
                raise ConfigurationError(f"SECRET_KEY and {name} must be different")
        if not config["PORTAL_BASE_URL"].startswith("https://"):
            raise ConfigurationError("PORTAL_BASE_URL must be the portal's https:// address in production "
                                     f"(its cookies only travel over HTTPS), got {config['PORTAL_BASE_URL']!r}")


class DevelopmentConfig(Config):
    """Demo and local development: secrets are generated once and kept in instance/."""

    ENV_NAME = "development"

    @staticmethod
    def check(config: dict) -> None:
        secrets_file = Path(config["INSTANCE_PATH"]) / "dev-secrets.json"
        stored = json.loads(secrets_file.read_text()) if secrets_file.exists() else {}
        changed = False
        for name in ("SECRET_KEY", "JWT_SECRET_KEY"):
            if not config.get(name):
                if name not in stored:
                    stored[name] = secrets.token_urlsafe(48)
                    changed = True
                config[name] = stored[name]
        if changed:
            secrets_file.parent.mkdir(parents=True, exist_ok=True)
            secrets_file.write_text(json.dumps(stored))
            secrets_file.chmod(0o600)


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True

    @staticmethod
    def check(config: dict) -> None:
        """Fixed keys for tests only, so worker subprocesses sign and check the same links."""
        config["SECRET_KEY"] = config.get("SECRET_KEY") or "test-secret-key-" + "x" * 32
        config["JWT_SECRET_KEY"] = config.get("JWT_SECRET_KEY") or "test-jwt-key-" + "y" * 32


CONFIGS = {"production": Config, "development": DevelopmentConfig, "demo": DevelopmentConfig, "testing": TestingConfig}


def load_config(env_name: str | None = None) -> tuple[type[Config], dict]:
    env_name = env_name or os.environ.get("PORTAL_ENV", "production")
    try:
        config_class = CONFIGS[env_name]
    except KeyError:
        raise ConfigurationError(f"PORTAL_ENV must be one of {', '.join(CONFIGS)}, got {env_name!r}") from None
    return config_class, config_class.from_env()
