"""The classroom on a phone: Debian's Chromium at 390 px, its position set through Playwright's
geolocation (with the accuracy a phone reports). A student in the room is recorded or flagged
for the lecturer, never turned away for the phone's error; every refusal offers the next step."""
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import AttendanceRecord, Review
from tests.browser import PHONE, PageChecks, shot, sign_in
from tests.factories import link_for, make_session, make_students

ROOM = (-1.28333, 36.81667)
CONFIRM = "I'm here — confirm my attendance"


def north_of(metres: float, accuracy: float) -> dict:
    return {"latitude": ROOM[0] + metres / 111_194.93, "longitude": ROOM[1], "accuracy": accuracy}


def located_link(app, people, **fields):
    session = make_session(people["course"], starts_in=timedelta(minutes=-2), latitude=ROOM[0], longitude=ROOM[1],
                           lecturer=people["lecturer"], room="LT 2", **fields)
    student = make_students(people["course"].program, 1, prefix=f"c{session.id}-")[0]
    return session, student, f"/attendance?token={link_for(app, session, student)}"


def confirm_at(browser, url: str, fix: dict):
    """A phone at `fix` opens the link and taps confirm; (its context, its page)."""
    context = browser.new_context(**PHONE, geolocation=fix, permissions=["geolocation"])
    phone = context.new_page()
    phone.goto(url)
    phone.get_by_role("button", name=CONFIRM).click()
    return context, phone


def record_of(student) -> AttendanceRecord | None:
    db.session.expire_all()
    return db.session.scalar(select(AttendanceRecord).where(AttendanceRecord.student_profile_id == student.id))


def test_44_m_give_or_take_35_is_recorded_flagged_and_accepted_by_the_lecturer(browser, app, portal_url, people):
    session, student, link = located_link(app, people)
    context, phone = confirm_at(browser, portal_url + link, north_of(44, 35))
    # ±35 m is rougher than the 30 m radius: the page waits a few seconds for a better fix, then posts the best.
    expect(phone.get_by_role("button")).to_contain_text("waiting a few seconds for a better one")
    expect(phone.get_by_role("heading", name="Attendance recorded")).to_be_visible(timeout=15_000)
    expect(phone.locator("#position-note")).to_contain_text("±35 m")
    shot(phone, "40-student-position-uncertain")
    PageChecks.settle(phone)
    context.close()
    record = record_of(student)
    assert record.position_uncertain and record.accuracy_m == 35 and round(record.distance_m) == 44

    lecturer = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(lecturer, portal_url, "lecturer@example.edu")
    lecturer.goto(f"{portal_url}/sessions/{session.id}/attendance")
    expect(lecturer.locator("#review-list")).to_contain_text("position uncertain (44 m ± 35 m)")
    expect(lecturer.locator(f"#record-{record.id}")).to_contain_text("44 m ± 35 m")
    shot(lecturer, "41-attendance-review-list")
    lecturer.get_by_role("button", name=f"Accept: {student.user.first_name} {student.user.last_name}").click()
    expect(lecturer.locator(f"#record-{record.id}")).to_contain_text("accepted by Lee Lecturer")
    expect(lecturer.locator("#to-review")).to_have_count(0)
    PageChecks.settle(lecturer)
    assert record_of(student).review == Review.ACCEPTED


def test_44_m_give_or_take_5_is_refused_and_try_again_works_once_closer(browser, app, portal_url, people):
    session, student, link = located_link(app, people)
    context, phone = confirm_at(browser, portal_url + link, north_of(44, 5))
    expect(phone.locator("#refusal")).to_contain_text("You are about 44 m from the session location")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Data Structures")
    shot(phone, "42-student-too-far-try-again")
    PageChecks.settle(phone)
    assert record_of(student) is None  # the link is not used up

    context.set_geolocation(north_of(12, 5))  # walked into the room
    phone.get_by_role("button", name="Try again").click()
    expect(phone.get_by_role("heading", name="Attendance recorded")).to_be_visible()
    PageChecks.settle(phone)
    context.close()
    record = record_of(student)
    assert round(record.distance_m) == 12 and not record.position_uncertain


def test_a_600_m_fix_is_asked_for_precise_location(browser, app, portal_url, people):
    session, student, link = located_link(app, people)
    context, phone = confirm_at(browser, portal_url + link, north_of(44, 600))
    expect(phone.locator("#refusal")).to_contain_text("only known to ±600 m: turn on precise location",
                                                      timeout=15_000)
    expect(phone.get_by_role("button", name="Try again")).to_be_enabled()
    shot(phone, "43-student-position-too-rough")
    PageChecks.settle(phone)
    context.close()
    assert record_of(student) is None


def test_not_open_yet_has_a_button_that_works_from_the_opening_time(browser, app, portal_url, people):
    session = make_session(people["course"], starts_in=timedelta(seconds=4), lecturer=people["lecturer"])
    student = make_students(people["course"].program, 1)[0]
    context = browser.new_context(**PHONE)
    phone = context.new_page()
    phone.goto(f"{portal_url}/attendance?token={link_for(app, session, student)}")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("opens for attendance")
    button = phone.get_by_role("button", name="Confirm my attendance")
    expect(button).to_be_disabled()
    shot(phone, "44-student-not-open-yet")
    PageChecks.settle(phone)
    expect(button).to_be_enabled(timeout=10_000)
    button.click()
    expect(phone.get_by_role("button", name=CONFIRM)).to_be_visible()
    phone.get_by_role("button", name=CONFIRM).click()
    expect(phone.get_by_role("heading", name="Attendance recorded")).to_be_visible()
    PageChecks.settle(phone)
    context.close()


def test_a_cancelled_sessions_link_names_whom_to_ask(browser, app, portal_url, people):
    from portal.sessions.changes import cancel_sessions

    session, student, link = located_link(app, people)
    cancel_sessions([session], people["lecturer"], notify_students=False)
    context = browser.new_context(**PHONE)
    phone = context.new_page()
    phone.goto(portal_url + link)
    expect(phone.get_by_role("heading", level=1)).to_contain_text("This session was cancelled")
    expect(phone.get_by_role("link", name="lecturer@example.edu")).to_be_visible()
    expect(phone.locator("#contact")).to_contain_text("Lee Lecturer")
    shot(phone, "45-student-cancelled")
    PageChecks.settle(phone)
    context.close()
