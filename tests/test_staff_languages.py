"""Staff read the portal in the language they chose on /account, else their browser's (issue 26)."""
import re

from portal.extensions import db
from portal.models import User


def page_language(response) -> str:
    return re.search(r'<html lang="([a-z]+)"', response.get_data(as_text=True)).group(1)


def test_without_a_choice_the_browser_decides(client, auth, people):
    auth.login("lecturer@example.edu")
    assert page_language(client.get("/account", headers={"Accept-Language": "fr-CA,fr;q=0.9"})) == "fr"
    assert page_language(client.get("/account", headers={"Accept-Language": "sw-KE"})) == "sw"
    assert page_language(client.get("/account", headers={"Accept-Language": "de,ja;q=0.5"})) == "en"
    assert page_language(client.get("/account")) == "en"


def test_a_chosen_language_beats_the_browser_and_can_be_undone(client, auth, people):
    auth.login("lecturer@example.edu")
    account = client.get("/account").get_data(as_text=True)
    assert re.search(r"value=\"\">My browser(&#39;|')s language</option>", account)
    assert '<option value="sw">Kiswahili</option>' in account

    saved = client.post("/account/language", data={"language": "sw"}, headers={"Accept-Language": "fr"})
    assert saved.status_code == 303
    page = client.get("/account", headers={"Accept-Language": "fr"})
    assert page_language(page) == "sw"
    assert '<option selected value="sw">Kiswahili</option>' in page.get_data(as_text=True)
    assert db.session.get(User, people["lecturer"].id).language == "sw"

    client.post("/account/language", data={"language": ""})
    assert db.session.get(User, people["lecturer"].id).language is None
    assert page_language(client.get("/account", headers={"Accept-Language": "fr"})) == "fr"


def test_a_language_not_offered_is_refused_on_the_form(client, auth, people):
    auth.login("lecturer@example.edu")
    refused = client.post("/account/language", data={"language": "de"})
    assert refused.status_code == 400
    assert "Not a valid choice" in refused.get_data(as_text=True) or "is-invalid" in refused.get_data(as_text=True)
    assert db.session.get(User, people["lecturer"].id).language is None


def test_signing_out_leaves_the_next_person_on_their_own_browsers_language(client, auth, people):
    auth.login("lecturer@example.edu")
    client.post("/account/language", data={"language": "fr"})
    auth.logout()
    assert page_language(client.get("/login", headers={"Accept-Language": "sw"})) == "sw"


def test_the_setting_needs_a_signed_in_staff_member(client):
    assert client.post("/account/language", data={"language": "fr"}).status_code in (302, 303)
