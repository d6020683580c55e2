"""The student's pages on a phone (Debian's Chromium at 390 px) in Swahili and in French: the
whole journey from the link to "recorded", a refusal and its way forward, the waiting page's
own script texts, and the switch; every page through the Nu HTML checker and axe-core, with
its `lang` attribute the page's language."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from tests.browser import PHONE, PageChecks, shot
from tests.factories import link_for, make_session, make_students
from tests.test_browser_classroom import ROOM, north_of, record_of

WORDS = {  # what each language's pages say, as a student reads them
    "sw": {"confirm": "Nipo — thibitisha mahudhurio yangu", "too_far": "Uko takriban mita 44 kutoka mahali pa kipindi",
           "try_again": "Jaribu tena", "recorded": "Mahudhurio yamerekodiwa", "opens": "Mahudhurio ya Data Structures",
           "open_button": "Thibitisha mahudhurio yangu", "soon": "Kitafunguliwa baada ya chini ya dakika moja."},
    "fr": {"confirm": "Je suis là — confirmer ma présence", "too_far": "Vous êtes à environ 44 m du lieu de la séance",
           "try_again": "Réessayer", "recorded": "Présence enregistrée", "opens": "La présence pour Data Structures",
           "open_button": "Confirmer ma présence", "soon": "Ouverture dans moins d’une minute."},
}


def student_of(people, session, language):
    student = make_students(people["course"].program, 1, prefix=f"b{session.id}-")[0]
    student.language = language
    db.session.commit()
    return student


@pytest.mark.parametrize("language", ["sw", "fr"])
def test_the_journey_in_the_students_language(browser, app, portal_url, people, language):
    words = WORDS[language]
    session = make_session(people["course"], starts_in=timedelta(minutes=-2), latitude=ROOM[0], longitude=ROOM[1],
                           lecturer=people["lecturer"], room="LT 2")
    student = student_of(people, session, language)
    context = browser.new_context(**PHONE, geolocation=north_of(44, 5), permissions=["geolocation"])
    phone = context.new_page()
    phone.goto(f"{portal_url}/attendance?token={link_for(app, session, student)}")
    expect(phone.locator("html")).to_have_attribute("lang", language)
    phone.get_by_role("button", name=words["confirm"]).click()
    expect(phone.locator("#refusal")).to_contain_text(words["too_far"])
    shot(phone, f"46-student-too-far-{language}")
    PageChecks.settle(phone)
    assert record_of(student) is None

    context.set_geolocation(north_of(12, 5))
    phone.get_by_role("button", name=words["try_again"]).click()
    expect(phone.get_by_role("heading", name=words["recorded"])).to_be_visible()
    expect(phone.locator("html")).to_have_attribute("lang", language)
    PageChecks.settle(phone)
    context.close()
    assert round(record_of(student).distance_m) == 12


def test_the_waiting_page_counts_down_in_french_and_the_switch_turns_it_to_swahili(browser, app, portal_url, people):
    session = make_session(people["course"], starts_in=timedelta(seconds=30), lecturer=people["lecturer"])
    student = student_of(people, session, "fr")
    context = browser.new_context(**PHONE)
    phone = context.new_page()
    phone.goto(f"{portal_url}/attendance?token={link_for(app, session, student)}")
    expect(phone.get_by_role("heading", level=1)).to_contain_text(WORDS["fr"]["opens"])
    expect(phone.locator("#wait-status")).to_have_text(WORDS["fr"]["soon"])  # the page's script, in French
    expect(phone.get_by_role("button", name=WORDS["fr"]["open_button"])).to_be_disabled()
    shot(phone, "47-student-not-open-yet-fr")
    PageChecks.settle(phone)

    phone.get_by_role("navigation", name="Langue").get_by_role("link", name="Kiswahili").click()
    expect(phone.locator("html")).to_have_attribute("lang", "sw")
    expect(phone.get_by_role("heading", level=1)).to_contain_text(WORDS["sw"]["opens"])
    expect(phone.locator("#wait-status")).to_have_text(WORDS["sw"]["soon"])
    expect(phone.get_by_role("navigation", name="Lugha").get_by_role("link", name="Kiswahili")).to_have_attribute(
        "aria-current", "true")
    PageChecks.settle(phone)
    context.close()
