"""Production refuses to start without real secrets; development keeps generated ones."""
import pytest

from portal import create_app
from portal.exceptions import ConfigurationError

GOOD = "s" * 40
OTHER = "j" * 40


@pytest.fixture
def production_env(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'p.db'}")
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_BASE_URL", "https://attendance.example.edu")

    def build(secret_key, jwt_key):
        for name, value in (("SECRET_KEY", secret_key), ("JWT_SECRET_KEY", jwt_key)):
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        return create_app()

    return build


@pytest.mark.parametrize(
    "secret_key, jwt_key, message",
    [
        (None, OTHER, "SECRET_KEY must be set"),
        (GOOD, None, "JWT_SECRET_KEY must be set"),
        ("changeme", OTHER, "SECRET_KEY must be set"),
        ("short-but-real", OTHER, "at least 32 bytes"),
        (GOOD, GOOD, "must be different"),
    ],
)
def test_production_refuses_bad_secrets(production_env, secret_key, jwt_key, message):
    with pytest.raises(ConfigurationError, match=message):
        production_env(secret_key, jwt_key)


def test_production_starts_with_real_secrets(production_env):
    app = production_env(GOOD, OTHER)
    assert app.config["JWT_SECRET_KEY"] == OTHER


def test_development_generates_secrets_once_and_keeps_them(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("JWT_SECRET_KEY", raising=False)
    config = {"ENV_NAME": "development", "INSTANCE_PATH": str(tmp_path),
              "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'd.db'}"}
    first, second = create_app(dict(config)), create_app(dict(config))
    assert len(first.config["JWT_SECRET_KEY"]) >= 32
    assert first.config["JWT_SECRET_KEY"] == second.config["JWT_SECRET_KEY"]
    assert first.config["SECRET_KEY"] != first.config["JWT_SECRET_KEY"]
    assert (tmp_path / "dev-secrets.json").stat().st_mode & 0o077 == 0


def test_unknown_mode_is_refused(monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "staging")
    with pytest.raises(ConfigurationError, match="PORTAL_ENV must be one of"):
        create_app()


def test_bad_number_is_refused(monkeypatch):
    monkeypatch.setenv("MAIL_BATCH_SIZE", "fifty")
    with pytest.raises(ConfigurationError, match="MAIL_BATCH_SIZE must be a whole number"):
        create_app({"ENV_NAME": "testing"})


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("MAIL_RATE_LIMIT", "ten a second", "MAIL_RATE_LIMIT: expected N/second, N/minute or N/hour"),
        ("MAIL_RATE_LIMIT", "0/second", "MAIL_RATE_LIMIT"),
        ("MAIL_RETRY_DELAYS", "60,soon", "MAIL_RETRY_DELAYS must be comma-separated whole numbers"),
        ("MAIL_RETRY_DELAYS", "60,0", "the last at least 1"),
        ("MAIL_CONNECTIONS", "0", "MAIL_CONNECTIONS must be at least 1"),
        ("MAIL_MAX_CONNECTIONS", "three", "MAIL_MAX_CONNECTIONS must be a whole number"),
        ("TOKEN_GRACE_MINUTES", "-5", "TOKEN_GRACE_MINUTES must be a whole number from 0 to 1440"),
        ("ATTENDANCE_OPENS_MINUTES_BEFORE", "2000", "ATTENDANCE_OPENS_MINUTES_BEFORE must be a whole number from 0"),
        ("ATTENDANCE_RADIUS_METRES", "5", "ATTENDANCE_RADIUS_METRES must be a whole number from 10 to 1000"),
        ("ATTENDANCE_MAX_ACCURACY_METRES", "0", "ATTENDANCE_MAX_ACCURACY_METRES must be a whole number from 1"),
    ],
)
def test_delivery_settings_are_checked_at_start_up(production_env, monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=message):
        production_env(GOOD, OTHER)


def test_delivery_settings_are_read(production_env, monkeypatch):
    monkeypatch.setenv("MAIL_RATE_LIMIT", "30/minute")
    monkeypatch.setenv("MAIL_MAX_CONNECTIONS", "3")
    monkeypatch.setenv("MAIL_RETRY_DELAYS", "1,2,4")
    config = production_env(GOOD, OTHER).config
    assert (config["MAIL_RATE_LIMIT"], config["MAIL_MAX_CONNECTIONS"], config["MAIL_RETRY_DELAYS"]) == (
        "30/minute", 3, [1, 2, 4])
    assert config["MAIL_CONNECTIONS"] == 20 and config["MAIL_PAUSE_PROBE_SECONDS"] == 60


@pytest.mark.parametrize(
    "fallbacks, message",
    [
        ("secret", r"JWT_SECRET_KEY_FALLBACKS \(key 1\) must be set to a real secret"),
        (f"{'o' * 40},short-old-key", r"JWT_SECRET_KEY_FALLBACKS \(key 2\) must be at least 32 bytes"),
        (GOOD, r"SECRET_KEY and JWT_SECRET_KEY_FALLBACKS \(key 1\) must be different"),
    ],
)
def test_production_holds_every_fallback_key_to_the_same_rules(production_env, monkeypatch, fallbacks, message):
    monkeypatch.setenv("JWT_SECRET_KEY_FALLBACKS", fallbacks)
    with pytest.raises(ConfigurationError, match=message):
        production_env(GOOD, OTHER)


def test_production_starts_with_a_real_fallback_key(production_env, monkeypatch):
    monkeypatch.setenv("JWT_SECRET_KEY_FALLBACKS", "o" * 40)
    assert production_env(GOOD, OTHER).config["JWT_SECRET_KEY_FALLBACKS"] == ["o" * 40]


@pytest.mark.parametrize("zone", ["Africa/Nairob", "Africa", "../../etc/passwd", "Europe/London\x01"])
def test_a_mistyped_time_zone_is_refused_at_start_up(production_env, monkeypatch, zone):
    monkeypatch.setenv("PORTAL_TIMEZONE", zone)
    with pytest.raises(ConfigurationError, match="PORTAL_TIMEZONE must be an IANA time zone"):
        production_env(GOOD, OTHER)


def test_the_entry_points_refuse_to_start_with_one_line(tmp_path):
    """gunicorn's wsgi module, the flask CLI and worker.py: one line naming the setting, exit 3."""
    import os
    import subprocess
    import sys

    from portal import ROOT

    env = {**os.environ, "PORTAL_ENV": "production", "SECRET_KEY": GOOD, "JWT_SECRET_KEY": OTHER,
           "JWT_SECRET_KEY_FALLBACKS": "secret", "PORTAL_BASE_URL": "https://attendance.example.edu", "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"}
    for command in ([sys.executable, "-c", "import wsgi"], [sys.executable, "-m", "flask", "--app", "wsgi", "routes"],
                    [sys.executable, "worker.py", "--burst"]):
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 3, (command, result.stderr)
        assert result.stderr.strip().splitlines() == [
            "portal: refusing to start: JWT_SECRET_KEY_FALLBACKS (key 1) must be set to a real secret in production"]


M365 = '''
[[relay]]
name = "m365"
server = "smtp.office365.com"
port = 587
use_tls = true
username = "attendance@example.edu"
sender = "attendance@example.edu"
auth = "xoauth2"
oauth_token_url = "https://login.microsoftonline.com/tenant-id/oauth2/v2.0/token"
oauth_client_id = "client-id"
oauth_client_secret = "client-secret"
oauth_scope = "https://outlook.office365.com/.default"
rate_limit = "30/minute"
daily_limit = 10000
'''
CAMPUS = '''
[[relay]]
name = "campus"
server = "smtp.example.edu"
username = "portal"
password = "relay-password"
connections = 4
'''


def test_a_relays_file_is_read_at_start_up(production_env, monkeypatch, tmp_path):
    from portal.delivery import relays

    path = tmp_path / "relays.toml"
    path.write_text(M365 + CAMPUS)
    monkeypatch.setenv("MAIL_RELAYS_FILE", str(path))
    monkeypatch.setenv("MAIL_DEFAULT_SENDER", "no-reply@example.edu")
    with production_env(GOOD, OTHER).app_context():
        m365, campus = relays.configured()
    assert (m365.name, m365.auth, m365.rate_limit, m365.daily_limit, m365.use_tls) == (
        "m365", "xoauth2", "30/minute", 10000, True)
    assert (campus.port, campus.sender, campus.connections, campus.daily_limit) == (25, "no-reply@example.edu", 4, None)
    assert "client-secret" not in repr(m365) and "relay-password" not in repr(campus)  # a relay can be logged


@pytest.mark.parametrize("text, message", [
    ("[[relay]]\nname = 'a'\nserver = 'x'\npasword = 'typo'\n", "relay a: unknown key 'pasword'"),
    ("[[relay]]\nname = 'a'\n", "relay a: server is missing"),
    ("[[relay]]\nserver = 'x'\n", "relay 1: name is missing"),
    ("[[relay]]\nname = 'a b'\nserver = 'x'\n", "the name may hold letters, digits"),
    ("[[relay]]\nname = 'a'\nserver = 'x'\nport = '587'\n", "relay a: port must be a whole number, got '587'"),
    ("[[relay]]\nname = 'a'\nserver = 'x'\nusername = 'portal'\n",
     "relay a: a login needs both username and password \\(password is missing\\)"),
    ("[[relay]]\nname = 'a'\nserver = 'x'\nauth = 'xoauth2'\nusername = 'a@example.edu'\n",
     "relay a: xoauth2 needs oauth_token_url, oauth_client_id, oauth_client_secret"),
    ("[[relay]]\nname = 'a'\nserver = 'x'\nauth = 'kerberos'\n", "relay a: auth must be password or xoauth2"),
    ("[[relay]]\nname = 'a'\nserver = 'x'\nrate_limit = 'lots'\n", "relay a: rate_limit: expected N/second"),
    ("[[relay]]\nname = 'a'\nserver = 'x'\ndaily_limit = 0\n", "relay a: daily_limit must be at least 1"),
    ("[[relay]]\nname = 'a'\nserver = 'x'\n[[relay]]\nname = 'a'\nserver = 'y'\n", "two relays are named 'a'"),
    ("[[relay]]\nname = 'a'\nserver = 'X'\n[[relay]]\nname = 'b'\nserver = 'x'\n",
     "relays 'a' and 'b' are the same account on the same server"),
    ("[relay]\nname = 'a'\n", "no \\[\\[relay\\]\\] tables"),
    ("relay = [\n", "not valid TOML"),
    ("[[relay]]\nname = 'a'\nserver = 'x'\n[other]\n", "only \\[\\[relay\\]\\] tables belong here, found other"),
])
def test_a_wrong_relays_file_is_refused_in_one_line(production_env, monkeypatch, tmp_path, text, message):
    path = tmp_path / "relays.toml"
    path.write_text(text)
    monkeypatch.setenv("MAIL_RELAYS_FILE", str(path))
    with pytest.raises(ConfigurationError, match=f"MAIL_RELAYS_FILE {path}: .*{message}") as refused:
        production_env(GOOD, OTHER)
    assert "\n" not in str(refused.value)


def test_a_missing_relays_file_is_refused(production_env, monkeypatch, tmp_path):
    monkeypatch.setenv("MAIL_RELAYS_FILE", str(tmp_path / "nowhere.toml"))
    with pytest.raises(ConfigurationError, match="nowhere.toml: cannot be read"):
        production_env(GOOD, OTHER)


@pytest.mark.parametrize("settings, message", [
    ({"MAIL_AUTH": "xoauth2", "MAIL_USERNAME": "attendance@example.edu"},
     "xoauth2 needs MAIL_OAUTH_TOKEN_URL, MAIL_OAUTH_CLIENT_ID, MAIL_OAUTH_CLIENT_SECRET"),
    ({"MAIL_AUTH": "XOAUTH2", "MAIL_USERNAME": "a@example.edu", "MAIL_OAUTH_TOKEN_URL": "http://login.example.com/t",
      "MAIL_OAUTH_CLIENT_ID": "id", "MAIL_OAUTH_CLIENT_SECRET": "s"}, "MAIL_OAUTH_TOKEN_URL must be https://"),
    ({"MAIL_AUTH": "ntlm"}, "MAIL_AUTH must be password or xoauth2"),
    ({"MAIL_PASSWORD": "relay-password"}, "needs both MAIL_USERNAME and MAIL_PASSWORD \\(MAIL_USERNAME is missing\\)"),
])
def test_mail_sign_in_settings_are_checked_at_start_up(production_env, monkeypatch, settings, message):
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=message):
        production_env(GOOD, OTHER)


def test_a_refresh_token_needs_no_client_secret(production_env, monkeypatch):
    """Google's refresh tokens may come from a public ("installed app") client without a secret."""
    from portal.delivery import relays

    for name, value in {"MAIL_AUTH": "xoauth2", "MAIL_USERNAME": "attendance@example.edu",
                        "MAIL_OAUTH_TOKEN_URL": "https://oauth2.googleapis.com/token",
                        "MAIL_OAUTH_CLIENT_ID": "id.apps.googleusercontent.com",
                        "MAIL_OAUTH_REFRESH_TOKEN": "1//refresh"}.items():
        monkeypatch.setenv(name, value)
    with production_env(GOOD, OTHER).app_context():
        (relay,) = relays.configured()
    assert (relay.name, relay.auth, relay.oauth_refresh_token) == ("default", "xoauth2", "1//refresh")


OIDC = {"SSO_OIDC_METADATA_URL": "https://login.example.ac.ke/.well-known/openid-configuration",
        "SSO_OIDC_CLIENT_ID": "attendance-portal", "SSO_OIDC_CLIENT_SECRET": "s3cret"}


@pytest.mark.parametrize("settings, message", [
    ({"SSO_OIDC_METADATA_URL": OIDC["SSO_OIDC_METADATA_URL"]},
     "OpenID Connect sign-in needs .*: SSO_OIDC_CLIENT_ID, SSO_OIDC_CLIENT_SECRET is not set"),
    ({**OIDC, "SSO_OIDC_METADATA_URL": "http://login.example.ac.ke/.well-known/openid-configuration"},
     "SSO_OIDC_METADATA_URL must be an https:// address"),
    ({**OIDC, "SSO_AUTO_CREATE": "admin"}, "SSO_AUTO_CREATE must be empty .* or lecturer"),
    ({"PASSWORD_SIGN_IN": "false"}, "PASSWORD_SIGN_IN=false needs a university sign-in"),
])
def test_university_sign_in_settings_are_checked_at_start_up(production_env, monkeypatch, settings, message):
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=message):
        production_env(GOOD, OTHER)


def test_university_sign_in_settings_are_read(production_env, monkeypatch):
    for name, value in {**OIDC, "SSO_AUTO_CREATE": "Lecturer"}.items():
        monkeypatch.setenv(name, value)
    app = production_env(GOOD, OTHER)
    assert app.config["SSO_AUTO_CREATE"] == "lecturer" and "university_oidc" in app.extensions


def test_saml_settings_are_checked_at_start_up(production_env, monkeypatch, tmp_path):
    metadata = tmp_path / "idp.xml"
    metadata.write_text("<EntityDescriptor/>")
    monkeypatch.setenv("SSO_SAML_IDP_METADATA", str(tmp_path / "missing.xml"))
    with pytest.raises(ConfigurationError, match="SSO_SAML_IDP_METADATA must be the identity provider's metadata"):
        production_env(GOOD, OTHER)
    monkeypatch.setenv("SSO_SAML_IDP_METADATA", str(metadata))
    with pytest.raises(ConfigurationError, match="SAML sign-in needs SSO_SAML_SP_CERT_FILE"):
        production_env(GOOD, OTHER)
    (tmp_path / "sp.crt").write_text("certificate")
    (tmp_path / "sp.key").write_text("key")
    monkeypatch.setenv("SSO_SAML_SP_CERT_FILE", str(tmp_path / "sp.crt"))
    monkeypatch.setenv("SSO_SAML_SP_KEY_FILE", str(tmp_path / "sp.key"))
    monkeypatch.setenv("PASSWORD_SIGN_IN", "false")  # SAML is a university sign-in too
    app = production_env(GOOD, OTHER)
    assert app.config["SSO_SAML_EMAIL_ATTRIBUTE"] == "urn:oid:0.9.2342.19200300.100.1.3"


@pytest.mark.parametrize("settings, message", [
    ({"PORTAL_LANGUAGES": "en,xx-bogus"}, "PORTAL_LANGUAGES: 'xx-bogus' is not a language code"),
    ({"PORTAL_LANGUAGES": "en,sw", "PORTAL_DEFAULT_LANGUAGE": "fr"}, "PORTAL_DEFAULT_LANGUAGE \\('fr'\\) must be one of"),
    ({"PORTAL_LANGUAGES": "en,sw,de"}, "'de' has no compiled catalogue .*it has no translation yet"),
])
def test_language_settings_are_checked_at_start_up(production_env, monkeypatch, settings, message):
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=message):
        production_env(GOOD, OTHER)
