"""The student's pages in the link's student's language, with a switch to the others (issue 26):
the confirm page, every refusal, the recorded page and the texts the page's script shows."""
import json
import re
from datetime import timedelta

import pytest
from babel.dates import format_date

from portal.extensions import db
from tests.factories import expired_link, link_for, make_session, make_students


@pytest.fixture
def link(app, people):
    """A link of a student whose recorded language is `language` (None: none recorded)."""
    def make(language, **fields):
        fields.setdefault("starts_in", timedelta(minutes=-1))
        session = make_session(people["course"], lecturer=people["lecturer"], room="LT 2", **fields)
        profile = make_students(people["course"].program, 1, prefix=f"l{session.id}-")[0]
        profile.language = language
        db.session.commit()
        return session, profile, link_for(app, session, profile)

    return make


def page_language(html: str) -> str:
    return re.search(r'<html lang="([a-z]+)"', html).group(1)


def switch(html: str) -> dict[str, str]:
    """The switch's links: language name → address."""
    nav = re.search(r'<nav aria-label="[^"]+" class="language-switch.*?</nav>', html, re.S).group(0)
    return {name: href.replace("&amp;", "&") for href, name in re.findall(r'href="([^"]+)"[^>]*>([^<]+)</a>', nav)}


@pytest.mark.parametrize("language, words", [
    ("sw", ["Habari First0,", "Nipo — thibitisha mahudhurio yangu", "Lugha"]),
    ("fr", ["Bonjour First0,", "Je suis là — confirmer ma présence", "Langue"]),
    (None, ["Hi First0,", "I'm here — confirm my attendance", "Language"]),
])
def test_the_confirm_page_is_in_the_students_language(client, link, language, words):
    session, _, token = link(language)
    html = client.get(f"/attendance?token={token}").get_data(as_text=True)
    assert page_language(html) == (language or "en")
    for text in words:
        assert text in html
    day = format_date(session.starts_at.date(), "EEE d MMM", locale=language or "en")
    assert day in html, "the day is written in the page's language"
    texts = json.loads(re.search(r'id="attendance-texts">(.*?)</script>', html).group(1))
    assert texts["try_again"] == {"sw": "Jaribu tena", "fr": "Réessayer", None: "Try again"}[language]
    assert "{minutes}" in texts["opens_in"] and "{accuracy}" in texts["rough_position"]


def test_the_switch_keeps_the_link_and_the_choice_stays_on_this_device(client, link):
    session, _, token = link("sw")
    links = switch(client.get(f"/attendance?token={token}").get_data(as_text=True))
    assert list(links) == ["English", "Kiswahili", "Français"]
    assert all(f"token={token}" in href for href in links.values())
    french = client.get(links["Français"]).get_data(as_text=True)
    assert page_language(french) == "fr" and "Je suis là — confirmer ma présence" in french
    # the choice is remembered: the answer to the confirmation (a POST) and the next visit are in French
    refused = client.post("/attendance", data={"token": token, "latitude": "not a number"})
    assert refused.status_code == 400 and page_language(refused.get_data(as_text=True)) == "fr"
    assert "Votre position n’a pas pu être lue" in refused.get_data(as_text=True)
    assert page_language(client.get(f"/attendance?token={token}").get_data(as_text=True)) == "fr"


def test_a_language_not_offered_is_not_taken_from_the_address(client, link):
    _, _, token = link("sw")
    html = client.get(f"/attendance?token={token}&lang=de").get_data(as_text=True)
    assert page_language(html) == "sw"


def test_refusals_are_in_the_students_language(app, client, link):
    session, profile, token = link("fr", starts_in=timedelta(minutes=20))
    opens = client.get(f"/attendance?token={token}")
    assert opens.status_code == 403
    html = opens.get_data(as_text=True)
    assert "La présence pour Data Structures pourra être confirmée à partir du" in html
    assert "Gardez cette page ouverte" in html and "Confirmer ma présence" in html

    session, profile, token = link("sw")
    client.post("/attendance", data={"token": token})
    again = client.get(f"/attendance?token={token}")
    assert again.status_code == 409
    assert "Mahudhurio yako ya Data Structures" in again.get_data(as_text=True)
    assert "Hakuna zaidi cha kufanya" in again.get_data(as_text=True)


def test_an_expired_link_speaks_its_students_language(app, client, link):
    session, profile, _ = link("sw")
    response = client.get(f"/attendance?token={expired_link(app, session, profile)}")
    assert response.status_code == 410
    html = response.get_data(as_text=True)
    assert page_language(html) == "sw" and "Kiungo hiki cha Data Structures" in html and "kiliisha muda wake" in html


def test_a_link_that_names_nobody_follows_the_browser(client):
    response = client.get("/attendance?token=not-a-link", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert page_language(html) == "fr" and "Ce lien n’est pas valide" in html
    english = client.get("/attendance?token=not-a-link", headers={"Accept-Language": "de-DE"})
    assert page_language(english.get_data(as_text=True)) == "en"


def test_a_student_with_no_language_gets_the_browsers(client, link):
    _, _, token = link(None)
    html = client.get(f"/attendance?token={token}", headers={"Accept-Language": "sw"}).get_data(as_text=True)
    assert page_language(html) == "sw"


def test_the_recorded_page_is_in_the_students_language(client, link):
    _, _, token = link("fr")
    response = client.post("/attendance", data={"token": token})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Présence enregistrée" in html and "Vous pouvez fermer cette page." in html
    assert all(f"token={token}" in href for href in switch(html).values())
