"""Sign-in rules, CSRF with protection on, security headers, error pages."""
import pytest

from portal.extensions import db
from tests.factories import PASSWORD
from tests.support import opens_pages


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
        ("/admin/staff/2/unlock", {}),
        ("/admin/import", {}),
        ("/admin/queue/pause", {"reason": "x"}),
        ("/admin/queue/resume", {}),
        ("/admin/import/confirm", {"token": "x", "action": "cancel"}),
        ("/admin/courses/1", {"code": "X", "name": "X", "program_code": "CS"}),
        ("/admin/programs/1/edit", {"code": "X", "name": "X"}),
        ("/admin/staff/2/password", {"new_password": "x" * 12, "confirm_password": "x" * 12}),
        ("/sessions/1/attendance/marks", {"student_id": "1", "status": "present"}),
        ("/sessions/1/attendance/save", {"status-1": "present"}),
        ("/account", {"current_password": PASSWORD, "new_password": "x" * 12, "confirm_password": "x" * 12}),
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


@pytest.fixture
def production(monkeypatch, tmp_path, app_config):
    """A production app (on the test database and Redis) answering as https://attendance.example.edu."""
    from portal import create_app
    from portal.extensions import db

    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("JWT_SECRET_KEY", "j" * 40)

    def build(**settings):
        app = create_app({"ENV_NAME": "production", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}",
                          "REDIS_URL": app_config["REDIS_URL"], "PORTAL_BASE_URL": "https://attendance.example.edu",
                          **settings})
        with app.app_context():
            db.create_all()
        return app

    return build


def test_cookies_are_secure_in_production(production):
    app = production()
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["REMEMBER_COOKIE_SECURE"]


def test_production_over_plain_http_redirects_to_the_https_address(production, caplog):
    client = production().test_client()
    response = client.get("/login?next=%2Fsessions", base_url="http://10.0.0.5:8000")
    assert response.status_code == 308
    assert response.location == "https://attendance.example.edu/login?next=%2Fsessions"  # never the Host header
    post = client.post("/login", data={"email": "a@example.edu"}, base_url="http://10.0.0.5:8000")
    assert post.status_code == 308
    assert "must be opened over HTTPS" in caplog.text
    secure = client.get("/login", base_url="https://attendance.example.edu")
    assert secure.status_code == 200 and "max-age" in secure.headers["Strict-Transport-Security"]
    assert client.get("/healthz", base_url="http://10.0.0.5:8000").status_code in (200, 503)  # never redirected


def test_production_behind_an_untrusted_proxy_says_to_set_trusted_proxies(production):
    untrusted = production().test_client()
    response = untrusted.get("/login", base_url="http://10.0.0.5:8000", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 503
    assert "The operator must set TRUSTED_PROXIES" in response.get_data(as_text=True)  # a redirect would loop forever
    trusted = production(TRUSTED_PROXIES=1).test_client()
    response = trusted.get("/login", base_url="http://10.0.0.5:8000", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200


def test_production_refuses_an_http_base_url(production):
    from portal.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="PORTAL_BASE_URL must be the portal's https:// address"):
        production(PORTAL_BASE_URL="http://attendance.example.edu")


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


def test_sign_in_attempts_are_rate_limited_per_client(client, people):
    statuses = [client.post("/login", data={"email": f"guess{n}@example.edu", "password": "guess"}).status_code
                for n in range(11)]
    assert statuses == [401] * 10 + [429]
    page = client.post("/login", data={"email": "x@example.edu", "password": "y"}).get_data(as_text=True)
    assert "Too many sign-in attempts from your network" in page
    assert client.get("/login").status_code == 200  # the page itself still opens


def test_an_ipv6_client_is_counted_per_64_network(client, people):
    """Rotating through the addresses of one /64 is still one client."""
    statuses = [client.post("/login", data={"email": f"guess{n}@example.edu", "password": "guess"},
                            environ_base={"REMOTE_ADDR": f"2001:db8:1:2::{n + 1:x}"}).status_code
                for n in range(11)]
    assert statuses == [401] * 10 + [429]
    other_network = client.post("/login", data={"email": "guess@example.edu", "password": "guess"},
                                environ_base={"REMOTE_ADDR": "2001:db8:1:3::1"})
    assert other_network.status_code == 401


def test_an_account_is_locked_from_the_address_that_failed_and_an_admin_unlocks_it(app, client, auth, people):
    """Five wrong passwords from one address lock the account there; the staff member signs in
    from their usual place all the same; an admin unlocks it at once (audited)."""
    from sqlalchemy import select

    from portal.models import AuditEvent

    stranger = {"REMOTE_ADDR": "198.51.100.7"}
    for n in range(5):
        response = client.post("/login", data={"email": "Lecturer@example.edu", "password": f"guess {n}"},
                               environ_base=stranger)
        assert response.status_code == 401
    locked = client.post("/login", data={"email": "lecturer@example.edu", "password": PASSWORD},
                         environ_base=stranger)
    assert locked.status_code == 429
    assert "Too many failed sign-ins for this account" in locked.get_data(as_text=True)
    usual = app.test_client()
    assert usual.post("/login", data={"email": "lecturer@example.edu", "password": PASSWORD},
                      environ_base={"REMOTE_ADDR": "203.0.113.5"}).status_code == 302  # not locked out by a stranger

    assert auth.login("admin@example.edu").status_code == 302
    assert client.post(f"/admin/staff/{people['lecturer'].id}/unlock").status_code == 302
    auth.logout()
    assert client.post("/login", data={"email": "lecturer@example.edu", "password": PASSWORD},
                       environ_base=stranger).status_code == 302
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "staff.unlock")).one()
    assert event.actor_id == people["admin"].id and event.subject == "lecturer@example.edu"


def test_guessing_one_account_from_many_addresses_meets_a_ceiling(app, client, people):
    app.config["LOGIN_ACCOUNT_CEILING"] = "5 per hour"
    for n in range(5):  # five wrong passwords, each from a different address
        response = client.post("/login", data={"email": "lecturer@example.edu", "password": f"guess {n}"},
                               environ_base={"REMOTE_ADDR": f"198.51.100.{n + 1}"})
        assert response.status_code == 401
    locked = client.post("/login", data={"email": "lecturer@example.edu", "password": PASSWORD},
                         environ_base={"REMOTE_ADDR": "198.51.100.99"})
    assert locked.status_code == 429


def test_successful_sign_ins_do_not_count_towards_the_lockout(client, auth, people):
    for _ in range(6):
        assert auth.login("lecturer@example.edu").status_code == 302
        auth.logout()


def test_sign_in_limits_fall_back_to_counting_in_the_process_when_redis_is_down(app_config, people, caplog):
    from portal import create_app

    app = create_app({**app_config, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0"})
    client = app.test_client()
    statuses = [client.post("/login", data={"email": f"guess{n}@example.edu", "password": "guess"}).status_code
                for n in range(11)]
    assert statuses == [401] * 10 + [429]
    assert "Traceback" not in caplog.text
    warnings = [r for r in caplog.records if "falling back to in-memory" in r.getMessage()]
    assert len(warnings) == 1 and not any(r.exc_info for r in caplog.records)


def test_sign_in_does_the_same_work_for_unknown_inactive_and_real_accounts(app, people, monkeypatch):
    """The time a refusal takes must not say whether the account exists: every refusal
    checks one password hash, made by the same method as the real accounts'."""
    from werkzeug import security

    from portal.auth import sign_in
    from portal.exceptions import SignInRefusedError
    from portal.extensions import db

    people["other"].is_active = False
    people["lecturer"].set_password(PASSWORD)  # the production hash method (fixtures use a cheap one)
    db.session.commit()
    checked = []
    real_check = security.check_password_hash
    monkeypatch.setattr(sign_in, "check_password_hash",
                        lambda pwhash, password: checked.append(pwhash.split("$")[0]) or real_check(pwhash, password))
    with app.test_request_context():
        for email in ("lecturer@example.edu", "nobody@example.edu", "other@example.edu"):
            checked.clear()
            with pytest.raises(SignInRefusedError):
                sign_in.authenticate(email, "wrong password")
            assert checked == [people["lecturer"].password_hash.split("$")[0]], email
        assert sign_in.authenticate("lecturer@example.edu", PASSWORD) == people["lecturer"]


def _copied_cookie(app, client):
    """A second browser holding a copy of `client`'s session cookie."""
    thief = app.test_client()
    cookie = client.get_cookie("session")
    thief.set_cookie(cookie.key, cookie.value)
    assert opens_pages(thief)  # the copy works while the session is valid
    return thief


def test_a_copied_session_cookie_stops_working_after_sign_out(app, client, auth, people):
    auth.login("lecturer@example.edu")
    thief = _copied_cookie(app, client)
    auth.logout()
    assert not opens_pages(thief)  # back to the sign-in page


def test_a_password_change_ends_every_session_of_that_account(app, client, auth, people):
    auth.login("lecturer@example.edu")
    thief = _copied_cookie(app, client)
    result = app.test_cli_runner().invoke(args=["set-password", "--email", "lecturer@example.edu",
                                                "--password", "a brand new password"])
    assert result.exit_code == 0, result.output
    assert "Password changed for lecturer@example.edu" in result.output
    assert not opens_pages(thief) and not opens_pages(client)
    assert auth.login("lecturer@example.edu", "a brand new password").status_code == 302
    refused = app.test_cli_runner().invoke(args=["set-password", "--email", "nobody@example.edu",
                                                 "--password", "short"])
    assert refused.exit_code != 0
    assert "no staff account with email nobody@example.edu; password must be at least 10" in refused.output


def test_deactivation_ends_the_accounts_sessions_for_good(app, client, auth, people):
    from portal.staff import accounts

    auth.login("lecturer@example.edu")
    thief = _copied_cookie(app, client)
    accounts.set_active(people["lecturer"].id, False, people["admin"])
    accounts.set_active(people["lecturer"].id, True, people["admin"])
    assert not opens_pages(thief)  # reactivating does not bring the old session back


def test_a_session_cookie_with_an_old_style_or_forged_id_loads_no_one(app, people):
    from portal.auth.access import load_user

    lecturer = people["lecturer"]
    with app.test_request_context():
        assert load_user(lecturer.get_id()) == lecturer
        for forged in (str(lecturer.id), f"{lecturer.id}.7", f"{lecturer.id}.-1", "x.0", "9" * 60 + ".0", ""):
            assert load_user(forged) is None, forged


def test_a_huge_body_is_refused_before_it_is_read(client):
    """64 MB announced, a few bytes sent: a 413 page at once (reading it would fail on the short body)."""
    response = client.post("/login", data=b"email=a", content_type="application/x-www-form-urlencoded",
                           environ_overrides={"CONTENT_LENGTH": str(64 * 1024 * 1024)})
    assert response.status_code == 413 and "too large" in response.get_data(as_text=True)


def test_only_the_import_takes_a_large_file(app, client, auth, people):
    import io

    from portal.security import REQUEST_LIMIT

    auth.login("admin@example.edu")
    big = b"student_number,first_name,last_name,email,program\n" + b"x" * (2 * REQUEST_LIMIT)
    assert client.post("/admin/programs", data={"program-code": "x" * (2 * REQUEST_LIMIT)}).status_code == 413
    response = client.post("/admin/import", data={"mode": "add", "csv_file": (io.BytesIO(big), "big.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "line" in response.get_data(as_text=True).lower()
