"""Sign-in rules, CSRF with protection on, security headers, error pages."""
import pytest

from portal.extensions import db
from tests.conftest import PASSWORD


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def test_sign_in_goes_to_next_only_on_this_site(client, auth, people):
    response = client.post("/login?next=/notifications", data={"email": "lecturer@example.edu", "password": PASSWORD})
    assert response.location == "/notifications"
    auth.logout()
    for evil in ("https://evil.example.com/", "//evil.example.com/", "/\\evil.example.com", "javascript:alert(1)"):
        response = client.post(f"/login?next={evil}", data={"email": "lecturer@example.edu", "password": PASSWORD})
        assert response.location == "/sessions", evil
        auth.logout()


def test_failed_sign_in_does_not_say_which_part_was_wrong(client, people):
    wrong_password = client.post("/login", data={"email": "lecturer@example.edu", "password": "nope"})
    unknown_user = client.post("/login", data={"email": "nobody@example.edu", "password": PASSWORD})
    assert wrong_password.status_code == unknown_user.status_code == 401
    message = b"Email or password is incorrect, or the account is not active."
    assert message in wrong_password.data and message in unknown_user.data


def test_passwords_are_stored_hashed(people):
    assert PASSWORD not in people["lecturer"].password_hash
    assert people["lecturer"].password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_logout_is_a_post(client, auth, people):
    auth.login("lecturer@example.edu")
    assert client.get("/logout").status_code == 405
    assert auth.logout().status_code == 302
    assert client.get("/sessions").status_code == 302


@pytest.mark.parametrize(
    "url, data",
    [
        ("/login", {"email": "lecturer@example.edu", "password": PASSWORD}),
        ("/logout", {}),
        ("/sessions/new", {"course_id": "1"}),
        ("/notifications/retry", {"notification_ids": "1", "confirm": "yes"}),
        ("/admin/programs", {"program-code": "X", "program-name": "X", "program-submit": "1"}),
        ("/admin/courses", {"code": "X1", "name": "X", "program_code": "CS"}),
        ("/admin/staff", {"email": "z@example.edu"}),
        ("/admin/staff/2/active", {"active": "false"}),
        ("/admin/import", {}),
        ("/admin/queue/pause", {"reason": "x"}),
        ("/admin/queue/resume", {}),
    ],
)
def test_every_form_refuses_a_missing_or_wrong_csrf_token(client, auth, people, csrf_on, url, data):
    # Sign in through the real form, with its token.
    html = client.get("/login").get_data(as_text=True)
    token = html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert auth.client.post("/login", data={"email": "admin@example.edu", "password": PASSWORD,
                                            "csrf_token": token}).status_code == 302
    for bad in ({}, {"csrf_token": "forged"}):
        response = client.post(url, data={**data, **bad})
        assert response.status_code == 400, url
        assert b"security token" in response.data
    db.session.refresh(people["lecturer"])
    assert people["lecturer"].is_active


def test_login_works_with_csrf_on(client, people, csrf_on):
    html = client.get("/login").get_data(as_text=True)
    token = html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post("/login", data={"email": "lecturer@example.edu", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302 and response.location == "/sessions"


def test_security_headers(client):
    headers = client.get("/login").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_pages_have_no_inline_script(client, auth, people):
    auth.login("admin@example.edu")
    for url in ("/login", "/sessions", "/sessions/new", f"/sessions/{people['own_session'].id}", "/notifications"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>" not in html and "onclick=" not in html and "style=" not in html, url


def test_cookies_are_secure_in_production(monkeypatch, tmp_path):
    from portal import create_app

    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("JWT_SECRET_KEY", "j" * 40)
    app = create_app({"ENV_NAME": "production", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["REMEMBER_COOKIE_SECURE"]


@pytest.mark.parametrize("status", [400, 403, 404, 409, 410, 500])
def test_error_pages_are_real_pages(app, client, status):
    from flask import abort

    app.add_url_rule(f"/boom{status}", f"boom{status}", lambda: abort(status))
    response = client.get(f"/boom{status}")
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert "<nav" in html and "Traceback" not in html and f">{status}<" in html


def test_an_unexpected_exception_is_a_500_page(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def explode():
        raise RuntimeError("secret internals")

    app.add_url_rule("/explode", "explode", explode)
    response = client.get("/explode")
    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.data and b"secret internals" not in response.data


def test_trusted_proxy_gives_the_client_address(app_config):
    from flask import request

    from portal import create_app

    behind_proxy = create_app({**app_config, "TRUSTED_PROXIES": 1})
    behind_proxy.add_url_rule("/whoami", "whoami", lambda: request.remote_addr)
    client = behind_proxy.test_client()
    assert client.get("/whoami", headers={"X-Forwarded-For": "203.0.113.9"}).get_data(as_text=True) == "203.0.113.9"
    direct = create_app(app_config)
    direct.add_url_rule("/whoami", "whoami", lambda: request.remote_addr)
    assert direct.test_client().get("/whoami", headers={"X-Forwarded-For": "203.0.113.9"}).get_data(
        as_text=True) == "127.0.0.1"


def test_sign_in_attempts_are_rate_limited(client, people):
    statuses = [client.post("/login", data={"email": "lecturer@example.edu", "password": f"guess {n}"}).status_code
                for n in range(11)]
    assert statuses == [401] * 10 + [429]
    assert b"Too many requests" in client.post("/login", data={"email": "x@example.edu", "password": "y"}).data
    assert client.get("/login").status_code == 200  # the page itself still opens
