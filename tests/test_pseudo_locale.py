"""Every text a reader meets goes through the catalogue (issue 26): the portal in a pseudo-
language (tests/pseudo_locale.py: each text as itself in [[…]]), and every page and email is
read for words outside the brackets that are not data. A text written straight into a template
or a message in the code shows up here, with where it was found."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from portal import languages
from portal.delivery import messages, relays
from portal.extensions import db
from portal.models import (
    AttendanceRecord,
    AttendanceSession,
    AuditEvent,
    Course,
    DeliveryAttempt,
    EmailNotification,
    Program,
    StudentProfile,
    User,
)
from portal.register.devices import device_label
from portal.sessions.changes import cancel_sessions
from portal.students import card_codes
from portal.timefmt import email_date, email_moment
from tests import pseudo_locale
from tests.factories import link_for, make_session, make_students

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def pseudo_catalogues(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pseudo")
    pseudo_locale.build(directory)
    return directory


@pytest.fixture
def app_config(app_config, pseudo_catalogues):
    """The portal in the pseudo-language by default (English still offered, as the switch shows)."""
    return {**app_config, "PORTAL_LANGUAGES": ["en", pseudo_locale.CODE],
            "PORTAL_DEFAULT_LANGUAGE": pseudo_locale.CODE, "BABEL_TRANSLATION_DIRECTORIES": str(pseudo_catalogues)}


def data_values() -> set[str]:
    """What the pages show that is the university's data (names, codes, rooms, addresses), or a
    record kept as it was written (a relay's reply, a delivery note, an audit entry's details, a
    pause's reason, a device's name)."""
    values = {languages.name(code) for code in languages.offered()}
    values |= set(db.session.scalars(select(EmailNotification.last_error).where(EmailNotification.last_error.is_not(None))))
    values |= set(db.session.scalars(select(DeliveryAttempt.detail).where(DeliveryAttempt.detail.is_not(None))))
    for event in db.session.query(AuditEvent):
        values |= {event.subject or "", event.details or "", event.actor_label or ""}
    for user in db.session.query(User):
        values |= {user.first_name, user.last_name, user.email}
    for course in db.session.query(Course):
        values |= {course.course_name, course.course_code}
    for program in db.session.query(Program):
        values |= {program.name, program.code} | {stream.name for stream in program.streams}
    for session in db.session.query(AttendanceSession):
        values |= {session.room} if session.room else set()
    for profile in db.session.query(StudentProfile):
        values |= {profile.student_number, card_codes.masked(profile.card_code), profile.bounce_reason or ""}
    for record in db.session.query(AttendanceRecord):
        values |= set(device_label(record.user_agent).split(" · ")) | {record.user_agent or ""}
    return {value for value in values if value}


def assert_all_translatable(pages: dict[str, str], codes: frozenset = frozenset()) -> None:
    data = data_values() | set(codes)
    found = {label: words for label, html in pages.items()
             if (words := pseudo_locale.untranslated(pseudo_locale.visible_text(html), data))}
    assert not found, "text outside the catalogue:\n" + "\n".join(f"{label}: {' '.join(words)[:300]}"
                                                                   for label, words in found.items())


def test_the_pseudo_language_shows_text_outside_the_catalogue():
    """The check itself: a bracketed text passes, a bare word does not, data is left alone."""
    assert pseudo_locale.untranslated("[[Hi [[Amina]],]] 10:00 EAT Data Structures", {"Data Structures"}) == []
    assert pseudo_locale.untranslated("[[Try again]] Cancel", set()) == ["Cancel"]


def test_the_students_pages(app, client, people):
    course, lecturer = people["course"], people["lecturer"]
    pages = {}

    def student(session):
        return make_students(course.program, 1, prefix=f"p{session.id}-")[0]

    # the confirm page, with the position check and the card scan; a refusal; the recorded page
    located = make_session(course, starts_in=timedelta(minutes=-1), latitude=-1.28, longitude=36.81, room="LT 2",
                           require_id_scan=True, lecturer=lecturer)
    profile = student(located)
    token = link_for(app, located, profile)
    pages["confirm"] = client.get(f"/attendance?token={token}").get_data(as_text=True)
    pages["too far"] = client.post("/attendance", data={"token": token, "latitude": "-1.0", "longitude": "36.81",
                                                        "accuracy": "5", "without_card": "1"}).get_data(as_text=True)
    pages["too rough"] = client.post("/attendance", data={
        "token": token, "latitude": "-1.2803", "longitude": "36.81", "accuracy": "900", "without_card": "1"}
    ).get_data(as_text=True)
    pages["no location"] = client.post("/attendance", data={"token": token}).get_data(as_text=True)
    pages["not your card"] = client.post("/attendance", data={"token": token, "latitude": "-1.28", "longitude": "36.81",
                                                              "accuracy": "5", "id_scan": "someone else"}
                                         ).get_data(as_text=True)
    pages["recorded, flagged"] = client.post("/attendance", data={
        "token": token, "latitude": "-1.2803", "longitude": "36.81", "accuracy": "40", "without_card": "1"}
    ).get_data(as_text=True)
    assert "[[Attendance recorded]]" in pages["recorded, flagged"]
    pages["already recorded"] = client.get(f"/attendance?token={token}").get_data(as_text=True)

    later = make_session(course, starts_in=timedelta(minutes=30), lecturer=lecturer)
    pages["not open yet"] = client.get(f"/attendance?token={link_for(app, later, student(later))}").get_data(
        as_text=True)
    cancelled = make_session(course, starts_in=timedelta(minutes=-1), lecturer=lecturer)
    cancelled_token = link_for(app, cancelled, student(cancelled))
    cancel_sessions([cancelled], lecturer, notify_students=False)
    pages["cancelled"] = client.get(f"/attendance?token={cancelled_token}").get_data(as_text=True)
    pages["not valid"] = client.get("/attendance?token=nonsense").get_data(as_text=True)
    assert_all_translatable(pages)


def test_the_confirm_pages_script_texts(app, client, people):
    import json
    import re

    session = make_session(people["course"], starts_in=timedelta(minutes=-1), lecturer=people["lecturer"])
    token = link_for(app, session, make_students(people["course"].program, 1)[0])
    html = client.get(f"/attendance?token={token}").get_data(as_text=True)
    texts = json.loads(re.search(r'id="attendance-texts">(.*?)</script>', html).group(1))
    assert texts and all(pseudo_locale.untranslated(text, set()) == [] for text in texts.values()), texts


@pytest.mark.parametrize("kind", sorted(messages.TEMPLATES))
def test_every_email(app, people, kind):
    moment = datetime(2026, 11, 26, 7, tzinfo=timezone.utc)
    language = pseudo_locale.CODE
    context = {**messages.SAMPLE_EMAIL_CONTEXT, "location_required": True, "scan_required": True,
               "session_date": email_date(moment, language), "token_expiry": email_moment(moment, language),
               "link_opens": email_moment(moment, language), "expires": email_moment(moment, language),
               "first_name": "Amina", "email": "amina@example.edu", "link": "https://portal.example.edu/x",
               "days": 7, "portal": "https://portal.example.edu"}
    built = messages.build("amina@example.edu", "Amina Otieno", context, "<1@example.edu>", kind=kind,
                           language=language)
    parts = {part.get_content_type(): part.get_content() for part in built.message.iter_parts()}
    data = {"Amina", "Data Structures", "CS201", "LT 2"}
    assert pseudo_locale.untranslated(str(built.message["Subject"]), data) == []
    assert pseudo_locale.untranslated(parts["text/plain"], data) == []
    assert pseudo_locale.untranslated(pseudo_locale.visible_text(parts["text/html"]), data) == []


def test_every_staff_page(app, client, auth, people):
    """Every page of tests/every_page.py (each role, each error state, the flashes after each action)."""
    from tests.every_page import every_page

    pages = every_page(app, client, auth, people)
    # Codes and records, not words: the register's letters, the sync file's new student, relay names.
    codes = {"P", "L", "E", "A", "New", "One", "S9"} | {relay.name for relay in relays.configured()}
    assert_all_translatable(pages, codes)


def test_the_flashes_after_each_kind_of_action(app, client, auth, people):
    """What the portal says once an action is done (the page it lands on, flash included), and the
    queue page while delivery is paused."""
    from datetime import timedelta

    from tests.factories import make_notification

    pages = {}

    def post(label, path, data=None):
        pages[label] = client.post(path, data=data or {}, follow_redirects=True).get_data(as_text=True)

    auth.login("admin@example.edu")
    program = people["course"].program
    students = make_students(program, 2)
    session = make_session(people["course"], starts_in=timedelta(minutes=-1), lecturer=people["lecturer"])
    link_for(app, session, students[0])
    failed = make_notification(people["own_session"], students[1], status="failed")
    post("program added", "/admin/programs", {"program-code": "BBA", "program-name": "Business",
                                               "program-streams": "A", "program-submit": "1"})
    post("course added", "/admin/courses", {"code": "BBA101", "name": "Accounting", "program_code": "BBA"})
    post("staff created", "/admin/staff", {"email": "new@example.edu", "first_name": "New", "last_name": "Person",
                                           "role": "lecturer"})
    post("delivery paused", "/admin/queue/pause", {"reason": ""})
    pages["queue while paused"] = client.get("/admin/queue").get_data(as_text=True)
    post("delivery resumed", "/admin/queue/resume")
    post("sweep", "/admin/queue/sweep")
    post("retried", "/notifications/retry", {"notification_ids": [failed.id], "confirm": "yes"})
    post("marked", f"/sessions/{session.id}/attendance/marks", {"student_id": [students[0].id], "status": "excused"})
    post("saved", f"/sessions/{session.id}/attendance/save", {f"status-{students[0].id}": "present"})
    post("nothing to save", f"/sessions/{session.id}/attendance/save")
    post("cancelled", f"/sessions/{session.id}/cancel", {"notify_students": "y"})
    post("language saved", "/account/language", {"language": pseudo_locale.CODE})
    post("signed out", "/logout")
    codes = {"BBA", "BBA101", "Accounting", "Business", "New", "Person"}
    assert_all_translatable(pages, codes | {relay.name for relay in relays.configured()})
