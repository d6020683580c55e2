"""Staff sign in through a SAML 2.0 identity provider built from pysaml2 (tests/saml_idp.py), with
Debian's xmlsec1 checking every signature: a signed assertion signs in; unsigned, tampered,
expired, wrong-audience and replayed ones are refused; the provider's metadata is read again for a
certificate rollover or a withdrawn certificate."""
import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent
from tests.saml_idp import IdentityProvider, key_and_certificate

pytestmark = pytest.mark.integration

PEOPLE = {
    "lee": {"mail": ["Lecturer@example.edu"], "givenName": ["Lee"], "sn": ["Lecturer"]},
    "ada": {"mail": ["admin@example.edu"]},
    "stranger": {"mail": ["stranger@example.edu"]},
    "nomail": {"givenName": ["No"], "sn": ["Mail"]},
}


@pytest.fixture
def idp(tmp_path):
    with IdentityProvider(tmp_path, PEOPLE) as provider:
        yield provider


@pytest.fixture
def app_config(app_config, idp, tmp_path):
    key_file, cert_file = key_and_certificate(tmp_path, "portal")
    return {**app_config, "SSO_SAML_IDP_METADATA": str(idp.metadata_file),
            "SSO_SAML_SP_CERT_FILE": str(cert_file), "SSO_SAML_SP_KEY_FILE": str(key_file)}


@pytest.fixture
def trusted(client, idp, people):
    """The provider has the portal's metadata, as its administrator would."""
    metadata = client.get("/saml/metadata")
    assert metadata.mimetype == "application/samlmetadata+xml"
    idp.trust(metadata.get_data(as_text=True))
    return idp


def sign_in_address(client, start: str = "/login/saml") -> str:
    """The portal's redirect to the provider's sign-in page, with its request."""
    response = client.get(start)
    assert response.status_code == 302
    return response.headers["Location"]


def post_answer(client, saml_response: str):
    return client.post("/saml/acs", data={"SAMLResponse": saml_response})


def signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def test_the_metadata_describes_the_portal(client, trusted):
    xml = client.get("/saml/metadata").get_data(as_text=True)
    assert 'entityID="https://portal.example.edu/saml/metadata"' in xml
    assert 'Location="https://portal.example.edu/saml/acs"' in xml and "X509Certificate" in xml


def test_a_signed_assertion_signs_a_staff_member_in(client, trusted):
    address = sign_in_address(client, "/login/saml?next=/sessions/new")
    assert address.startswith(f"{trusted.base}/sso/redirect?SAMLRequest=")
    response = post_answer(client, trusted.answer(address, "lee")[0])
    assert response.status_code == 303 and response.headers["Location"] == "/sessions/new"
    assert signed_in(client)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sign_in.university"))
    assert (event.subject, event.details) == ("lecturer@example.edu", "through SAML")


@pytest.mark.parametrize("variant", [
    {"signed": False},
    {"audience": IdentityProvider.OTHER_SP},  # signed, but for another service
    {"lifetime_minutes": -10},  # expired before it arrives
    {"tamper_with": ("Lecturer@example.edu", "admin@example.edu")},  # signed for Lee, changed to the admin
])
def test_an_assertion_that_fails_a_check_is_refused(client, trusted, variant):
    response = post_answer(client, trusted.answer(sign_in_address(client), "lee", **variant)[0])
    assert response.status_code == 401 and "could not be completed" in response.get_data(as_text=True)
    assert not signed_in(client)


def test_a_new_certificate_in_the_providers_metadata_is_taken_at_the_next_sign_in(client, app, trusted):
    """A certificate rollover at the provider: the portal read its metadata at the first sign-in;
    the first answer signed with the new key has it read again, and signs in."""
    assert post_answer(client, trusted.answer(sign_in_address(client), "lee")[0]).status_code == 303
    client.post("/logout")
    trusted.new_key()
    assert post_answer(client, trusted.answer(sign_in_address(client), "lee")[0]).status_code == 303
    assert signed_in(client)


def test_an_answer_signed_with_a_key_the_metadata_does_not_list_is_refused(client, app, trusted, monkeypatch):
    """Read again once (at most once a minute, so that forged answers cannot make the portal fetch the
    provider's metadata at will), the metadata still does not list the forger's key."""
    from saml2.config import SPConfig

    assert post_answer(client, trusted.answer(sign_in_address(client), "lee")[0]).status_code == 303
    client.post("/logout")
    loads = []
    real_load = SPConfig.load
    monkeypatch.setattr(SPConfig, "load", lambda self, *args, **kwargs: loads.append(1) or real_load(
        self, *args, **kwargs))
    trusted.new_key(published=False)
    for _ in range(2):
        response = post_answer(client, trusted.answer(sign_in_address(client), "lee")[0])
        assert response.status_code == 401 and "could not be completed" in response.get_data(as_text=True)
    assert not signed_in(client) and len(loads) == 1


def test_a_certificate_the_provider_withdraws_is_no_longer_trusted_once_its_metadata_is_read_again(
        client, app, trusted, monkeypatch):
    from portal.auth import saml

    assert post_answer(client, trusted.answer(sign_in_address(client), "lee")[0]).status_code == 303
    client.post("/logout")
    withdrawn = trusted.server
    trusted.new_key()  # the old key leaked: the provider's metadata lists only the new certificate
    monkeypatch.setattr(saml, "METADATA_MAX_AGE", 0)  # an hour on
    trusted.server = withdrawn  # an answer signed with the withdrawn key
    assert post_answer(client, trusted.answer(sign_in_address(client), "lee")[0]).status_code == 401
    assert not signed_in(client)


def test_metadata_that_cannot_be_read_again_leaves_the_copy_in_use(client, app, trusted, monkeypatch, caplog):
    from portal.auth import saml

    assert post_answer(client, trusted.answer(sign_in_address(client), "lee")[0]).status_code == 303
    client.post("/logout")
    trusted.metadata_file.unlink()  # the provider's address is down, say
    monkeypatch.setattr(saml, "METADATA_MAX_AGE", 0)
    assert post_answer(client, trusted.answer(sign_in_address(client), "lee")[0]).status_code == 303
    assert "the copy read before stays in use" in caplog.text


def test_a_metadata_address_that_never_answers_is_given_up_on_in_time(client, app, monkeypatch):
    """A provider whose metadata address accepts and never answers: the sign-in says so within the
    timeout, and nothing hangs."""
    import threading

    from saml2.config import SPConfig

    from portal.auth import saml
    from tests.smtp_servers import SilentServer

    monkeypatch.setattr(saml, "METADATA_TIMEOUT_SECONDS", 1)
    failed = []

    def read_metadata():  # in a thread of its own, so that a hang fails the test instead of stopping it
        try:
            SPConfig().load(saml.settings(app))
        except Exception as exc:
            failed.append(exc)

    with SilentServer() as silent:
        app.config["SSO_SAML_IDP_METADATA"] = f"https://127.0.0.1:{silent.port}/metadata"
        reading = threading.Thread(target=read_metadata, daemon=True)
        reading.start()
        reading.join(5)
        assert not reading.is_alive() and failed, "reading the provider's metadata hung"
        response = client.get("/login/saml")
    assert response.status_code == 401 and "not answering" in response.get_data(as_text=True)  # as with OIDC


def test_a_replayed_assertion_is_refused(client, app, trusted):
    saml_response = trusted.answer(sign_in_address(client), "ada")[0]
    assert post_answer(client, saml_response).status_code == 303
    client.post("/logout")
    other = app.test_client()
    assert post_answer(other, saml_response).status_code == 401  # its request was answered already
    assert not signed_in(other)
    # Even were its request still waiting, the assertion itself is accepted once.
    from portal.auth import saml

    app.extensions["redis"].set(saml.REQUEST_KEY + saml._in_response_to(saml_response), "")
    assert post_answer(other, saml_response).status_code == 401
    assert not signed_in(other)


def test_an_answer_to_no_request_of_ours_is_refused(client, trusted):
    address = sign_in_address(client)
    client.application.extensions["redis"].flushdb()  # the request expired (or never was ours)
    assert post_answer(client, trusted.answer(address, "lee")[0]).status_code == 401


def test_an_unknown_person_and_a_missing_email_are_refused(client, trusted):
    unknown = post_answer(client, trusted.answer(sign_in_address(client), "stranger")[0])
    assert unknown.status_code == 401 and "has no staff account here" in unknown.get_data(as_text=True)
    no_mail = post_answer(client, trusted.answer(sign_in_address(client), "nomail")[0])
    assert no_mail.status_code == 401 and "did not confirm your email address" in no_mail.get_data(as_text=True)


def test_the_browser_journey_through_the_university_page(page, app, portal_url, idp, people):
    import requests
    from playwright.sync_api import expect

    app.config["PORTAL_BASE_URL"] = portal_url  # before the portal's SAML settings are first read
    idp.trust(requests.get(f"{portal_url}/saml/metadata", timeout=10).text)
    page.goto(f"{portal_url}/login")
    page.get_by_role("link", name="Sign in with your university account").click()
    page.get_by_role("button", name="lee").click()  # the provider's page; its answer posts itself back
    expect(page).to_have_url(f"{portal_url}/sessions")
    expect(page.get_by_text("Lee Lecturer")).to_be_visible()
