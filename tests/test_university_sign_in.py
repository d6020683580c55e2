"""Staff sign in with their university account: OpenID Connect against a real provider process on
loopback (oidc-provider-mock, which signs its ID tokens and requires a nonce), through the
portal's real routes."""
import json
import sys
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, Role, User
from tests.smtp_servers import free_port
from tests.support import end_process, spawn, wait_for

pytestmark = pytest.mark.integration

PEOPLE = [
    {"sub": "ada", "email": "admin@example.edu", "email_verified": True, "name": "Ada Admin"},
    {"sub": "lee", "email": "Lecturer@Example.edu", "email_verified": True},
    {"sub": "new", "email": "new.person@example.edu", "email_verified": True, "given_name": "Neema",
     "family_name": "Mwangi"},
    {"sub": "unsure", "email": "other@example.edu", "email_verified": False},
    {"sub": "odd", "email": "not an address", "email_verified": True},
]


@pytest.fixture
def provider(tmp_path):
    """The university's OpenID Connect provider, in its own process."""
    port = free_port()
    command = [sys.executable, "-m", "oidc_provider_mock", "--port", str(port), "--require-nonce"]
    for person in PEOPLE:
        command += ["--user-claims", json.dumps(person)]
    process = spawn(command, None, tmp_path / "provider.log")
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if requests.get(f"{base}/.well-known/openid-configuration", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "provider.log").read_text()
            time.sleep(0.1)
        yield base
    finally:
        end_process(process)


@pytest.fixture
def app_config(app_config, provider):
    return {**app_config, "SSO_OIDC_METADATA_URL": f"{provider}/.well-known/openid-configuration",
            "SSO_OIDC_CLIENT_ID": "attendance-portal", "SSO_OIDC_CLIENT_SECRET": "not-a-real-secret"}


def at_provider(client, sub: str, start: str = "/login/oidc") -> str:
    """Start the sign-in at the portal and choose `sub` on the provider's page: the address the
    provider sends the browser back to (the portal's callback, with its code and state)."""
    to_provider = client.get(start)
    assert to_provider.status_code == 302
    authorize = to_provider.headers["Location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    chosen = requests.post(authorize, data={"sub": sub}, allow_redirects=False, timeout=10)
    assert chosen.status_code == 302, chosen.text
    back = urlsplit(chosen.headers["Location"])
    assert back.path == "/login/oidc/callback"
    return f"{back.path}?{back.query}"


def signed_in_as(client) -> str | None:
    page = client.get("/account")
    return None if page.status_code != 200 else page.get_data(as_text=True)


def audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_the_login_page_offers_the_university_button(client, people):
    page = client.get("/login").get_data(as_text=True)
    assert "Sign in with your university account" in page and 'href="/login/oidc' in page


def test_a_staff_member_signs_in_with_their_university_account(client, people):
    callback = at_provider(client, "lee", start="/login/oidc?next=/sessions/new")
    response = client.get(callback)
    assert response.status_code == 302 and response.headers["Location"] == "/sessions/new"
    assert "lecturer@example.edu" in signed_in_as(client)  # the email's case does not matter
    assert [event.subject for event in audit("sign_in.university")] == ["lecturer@example.edu"]


def test_the_providers_keys_are_read_again_once_an_hour_old(client, people, tmp_path, monkeypatch):
    """So that a key the provider withdraws stops being trusted within the hour (a new key is
    fetched at once, the first time a token names it). Counted in the provider's own log."""
    from portal.auth import oidc

    def fetched(path: str) -> int:
        return (tmp_path / "provider.log").read_text().count(f'"GET {path} HTTP/1.1" 200')

    for _ in range(2):
        assert client.get(at_provider(client, "lee")).status_code == 302
        client.post("/logout")
    wait_for(lambda: fetched("/jwks") == 1, timeout=5, what="the keys read once within the hour")
    documents = fetched("/.well-known/openid-configuration")
    monkeypatch.setattr(oidc, "METADATA_MAX_AGE", 0)  # an hour on
    assert client.get(at_provider(client, "lee")).status_code == 302
    assert "lecturer@example.edu" in signed_in_as(client)
    wait_for(lambda: fetched("/jwks") == 2, timeout=5, what="the keys read again")
    assert fetched("/.well-known/openid-configuration") > documents


def test_an_unknown_university_account_is_refused_and_recorded(client, people):
    response = client.get(at_provider(client, "new"))
    assert response.status_code == 401
    assert "has no staff account here" in response.get_data(as_text=True)
    assert signed_in_as(client) is None
    assert db.session.scalar(select(User).where(User.email == "new.person@example.edu")) is None
    assert "no staff account" in audit("sign_in.refused")[0].details


def test_with_auto_create_an_unknown_account_becomes_a_lecturer(client, app, people):
    app.config["SSO_AUTO_CREATE"] = "lecturer"
    assert client.get(at_provider(client, "new")).status_code == 302
    user = db.session.scalar(select(User).where(User.email == "new.person@example.edu"))
    assert (user.role, user.first_name, user.last_name, user.password_hash) == (
        Role.LECTURER, "Neema", "Mwangi", None)
    assert client.get("/sessions/new").status_code == 200
    assert client.get("/admin/staff").status_code == 403  # a lecturer, never an admin
    assert "first sign-in through OpenID Connect" in audit("staff.create")[0].details


def test_auto_create_makes_no_account_of_an_unusable_address(client, app, people):
    app.config["SSO_AUTO_CREATE"] = "lecturer"
    response = client.get(at_provider(client, "odd"))
    assert response.status_code == 401 and signed_in_as(client) is None
    assert db.session.scalar(select(User).where(User.email == "not an address")) is None
    assert "cannot create an account: email is not valid" in audit("sign_in.refused")[0].details


def test_an_email_the_university_does_not_vouch_for_is_refused(client, people):
    response = client.get(at_provider(client, "unsure"))
    assert response.status_code == 401 and "did not confirm your email address" in response.get_data(as_text=True)
    assert signed_in_as(client) is None


def test_a_deactivated_staff_account_is_refused(client, people):
    people["lecturer"].is_active = False
    db.session.commit()
    response = client.get(at_provider(client, "lee"))
    assert response.status_code == 401 and "deactivated" in response.get_data(as_text=True)


def test_a_bad_state_is_refused(client, people):
    callback = at_provider(client, "ada")
    response = client.get(callback.replace("state=", "state=x"))
    assert response.status_code == 401 and "start again" in response.get_data(as_text=True)
    assert signed_in_as(client) is None


def test_an_id_token_for_another_sign_in_is_refused_by_its_nonce(client, people):
    """Two sign-ins started in one browser: the provider's answer to the first, brought back with
    the second's state, carries the first's nonce, and is refused."""
    first = at_provider(client, "ada")
    second = client.get("/login/oidc").headers["Location"]
    other_state = parse_qs(urlsplit(second).query)["state"][0]
    query = parse_qs(urlsplit(first).query)
    response = client.get(f"/login/oidc/callback?code={query['code'][0]}&state={other_state}")
    assert response.status_code == 401
    assert signed_in_as(client) is None


def test_a_code_used_twice_signs_in_once(client, people):
    callback = at_provider(client, "ada")
    assert client.get(callback).status_code == 302
    client.post("/logout")
    assert client.get(callback).status_code == 401  # the state was spent with the first


def test_a_provider_that_does_not_answer_is_said_plainly(client, app, people):
    from portal.auth import oidc

    app.config["SSO_OIDC_METADATA_URL"] = f"http://127.0.0.1:{free_port()}/.well-known/openid-configuration"
    oidc.init_app(app)
    response = client.get("/login/oidc")
    assert response.status_code == 401 and "not answering" in response.get_data(as_text=True)


def test_the_browser_journey_through_the_university_page(page, app, portal_url, people):
    from playwright.sync_api import expect

    from tests.browser import shot

    app.config["PORTAL_BASE_URL"] = portal_url  # where the provider sends the browser back
    page.goto(f"{portal_url}/sessions")
    expect(page.get_by_role("link", name="Sign in with your university account")).to_be_visible()
    shot(page, "sign-in-university")
    page.get_by_role("link", name="Sign in with your university account").click()
    page.get_by_role("button", name="lee", exact=True).click()  # the provider's own page
    expect(page).to_have_url(f"{portal_url}/sessions")
    expect(page.get_by_text("Lee Lecturer")).to_be_visible()


def test_with_password_sign_in_off_only_the_break_glass_admin_uses_a_password(client, app, people):
    from tests.factories import PASSWORD, make_staff

    make_staff("second.admin@example.edu", Role.ADMIN)
    app.config.update(PASSWORD_SIGN_IN=False, PASSWORD_SIGN_IN_ADMIN="admin@example.edu")
    page = client.get("/login").get_data(as_text=True)
    assert "Emergency sign-in for the administrator" in page and "or with a password" not in page
    for email in ("lecturer@example.edu", "second.admin@example.edu"):
        refused = client.post("/login", data={"email": email, "password": PASSWORD})
        assert refused.status_code == 401 and "Email or password is incorrect" in refused.get_data(as_text=True)
    assert client.post("/login", data={"email": "Admin@example.edu", "password": PASSWORD}).status_code == 302
    assert "admin@example.edu" in signed_in_as(client)
