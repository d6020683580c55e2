"""A lecturer's sessions after the first email, in a real browser: the form's checks, editing,
cancelling, a series, and every staff page on a phone."""
import re
from datetime import timedelta

from playwright.sync_api import expect

from portal.database import utcnow
from portal.extensions import db
from portal.repositories import EmailNotificationRepository
from tests.browser import PHONE, link_in_email, shot, sign_in
from tests.factories import (
    assign,
    make_course,
    make_program,
    make_session,
    make_students,
    newest_session,
    tomorrow,
)
from tests.smtp_servers import parts

TOMORROW = tomorrow()


def fill_session(page, course_id: int, start="08:00", end="09:00") -> None:
    page.get_by_label("Course", exact=True).select_option(str(course_id))
    page.get_by_label("Date", exact=True).fill(TOMORROW)
    page.get_by_label("Starts", exact=True).fill(start)
    page.get_by_label("Ends", exact=True).fill(end)


def test_the_form_says_who_it_emails_and_asks_before_another_program(page, portal_url, people):
    cs = people["course"].program
    make_students(cs, 3)
    bba = make_program("BBA", streams=())
    make_students(bba, 21, prefix="bba")
    sign_in(page, portal_url, "lecturer@example.edu")
    page.goto(f"{portal_url}/sessions/new")
    fill_session(page, people["course"].id)
    program = page.get_by_label("Program", exact=True)
    expect(program).to_have_value(str(cs.id))  # the course chose its program
    audience = page.locator("#audience")
    expect(audience).to_have_text("This will email all 3 active students of CS (all streams).")
    shared = page.get_by_label("Yes, this class is shared: email this program's students")
    expect(shared).to_be_hidden()

    program.select_option(str(bba.id))
    expect(audience).to_have_text("This will email all 21 active students of BBA (all streams).")
    expect(shared).to_be_visible()
    page.get_by_role("button", name="Create session").click()
    expect(page.locator("#program_id-error")).to_contain_text("CS201 is a CS course. To email BBA students")
    expect(audience).to_have_text("This will email all 21 active students of BBA (all streams).")
    assert newest_session().program_id == cs.id  # only the fixture's sessions: nothing saved
    shot(page, "session-form-another-program")

    page.get_by_label("Yes, this class is shared: email this program's students").check()
    page.get_by_role("button", name="Create session").click()
    expect(page).to_have_url(re.compile(rf"{portal_url}/sessions/\d+$"))
    assert newest_session().program_id == bba.id


def test_editing_after_sending_and_cancelling_with_notice(page, browser, app, portal_url, people, smtp_server,
                                                          run_worker):
    app.config["PORTAL_BASE_URL"] = portal_url
    app.config["PORTAL_TIMEZONE"] = "Africa/Nairobi"
    student = make_students(people["course"].program, 1)[0]
    sign_in(page, portal_url, "lecturer@example.edu")
    page.goto(f"{portal_url}/sessions/new")
    fill_session(page, people["course"].id)
    page.get_by_label("Room (optional)").fill("LT 2")
    page.get_by_role("button", name="Create session").click()
    expect(page).to_have_url(re.compile(rf"{portal_url}/sessions/\d+$"))  # saved before the worker runs
    run_worker()
    old_link = link_in_email(smtp_server, student.user.email)
    invitation = parts(smtp_server.handler.received[0].message)["text/plain"]
    assert "Time: 08:00 - 09:00 EAT" in invitation and " EAT." in invitation  # the zone, in the delivered bytes

    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Room (optional)")).to_have_value("LT 2")
    page.get_by_label("Starts", exact=True).fill("10:00")
    page.get_by_label("Ends", exact=True).fill("11:30")
    shot(page, "session-edit")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status").first).to_contain_text("“Session changed” email")
    run_worker()
    changed = smtp_server.handler.received[-1]
    assert changed.message["Subject"].startswith("Session changed: Data Structures")
    text = parts(changed.message)["text/plain"]
    assert "Time: 10:00 - 11:30 EAT" in text
    new_link = next(line.strip() for line in text.splitlines() if "/attendance?token=" in line)

    phone = browser.new_context(**PHONE).new_page()
    phone.goto(old_link)
    expect(phone.get_by_role("heading", level=1)).to_have_text(
        "This session was changed; use the newest email about Data Structures.")
    phone.goto(new_link)
    expect(phone.get_by_role("heading", level=1)).to_contain_text("opens for attendance on")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("at 10:00 EAT")

    page.get_by_role("link", name="Cancel session").click()
    page.get_by_label("Email the students who were already told about it that it is cancelled").check()
    shot(page, "session-cancel")
    page.get_by_role("button", name="Cancel the session").click()
    expect(page.get_by_role("status").first).to_contain_text("Session cancelled.")
    expect(page.get_by_text("Cancelled", exact=True)).to_be_visible()
    run_worker()
    assert smtp_server.handler.received[-1].message["Subject"].startswith("Session cancelled: Data Structures")
    phone.goto(new_link)
    expect(phone.get_by_role("heading", level=1)).to_contain_text("This session was cancelled")
    phone.context.close()


def test_editing_before_any_email_changes_every_field(page, app, portal_url, people, smtp_server, run_worker):
    """A scheduled session not yet emailed: course, time and room all change, nothing is sent
    until Send now, and then the one email carries the new details."""
    app.config["PORTAL_BASE_URL"] = portal_url
    algorithms = make_course(people["course"].program, code="CS301", name="Algorithms")
    assign(algorithms, people["lecturer"])
    student = make_students(people["course"].program, 1)[0]
    sign_in(page, portal_url, "lecturer@example.edu")
    page.goto(f"{portal_url}/sessions/new")
    fill_session(page, people["course"].id)
    page.get_by_label("Before the session starts").check()
    page.get_by_label("Minutes before the start").fill("60")
    page.get_by_role("button", name="Create session").click()
    expect(page.get_by_text("Emails will go out at")).to_be_visible()

    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_text("No email has gone out yet: every field can change.")).to_be_visible()
    page.get_by_label("Course", exact=True).select_option(str(algorithms.id))
    page.get_by_label("Starts", exact=True).fill("13:00")
    page.get_by_label("Ends", exact=True).fill("14:00")
    page.get_by_label("Room (optional)").fill("Lab 4")
    page.get_by_label("Minutes before the start").fill("120")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("CS301 — Algorithms")
    expect(page.get_by_text("13:00–14:00 (UTC) · Lab 4")).to_be_visible()
    expect(page.get_by_text("120 minutes before the start")).to_be_visible()
    run_worker()
    assert smtp_server.handler.received == []  # still scheduled: nothing went out

    page.get_by_role("button", name="Send now").click()
    expect(page.get_by_role("status").first).to_contain_text("Sending the emails now.")  # queued before the worker runs
    run_worker()
    [email] = smtp_server.handler.received
    assert student.user.email in email.message["To"]
    assert email.message["Subject"] == "Attendance Session Created: Algorithms"
    text = parts(email.message)["text/plain"]
    assert "Time: 13:00 - 14:00 UTC" in text and "Lab 4" in text and "Data Structures" not in text


def test_cancelling_without_telling_the_students(page, browser, app, portal_url, people, smtp_server, run_worker):
    """Sent links answer 410, the students get nothing more, and the session stays, marked cancelled."""
    app.config["PORTAL_BASE_URL"] = portal_url
    student = make_students(people["course"].program, 1)[0]
    sign_in(page, portal_url, "lecturer@example.edu")
    page.goto(f"{portal_url}/sessions/new")
    fill_session(page, people["course"].id)
    page.get_by_role("button", name="Create session").click()
    expect(page).to_have_url(re.compile(rf"{portal_url}/sessions/\d+$"))  # saved before the worker runs
    run_worker()
    link = link_in_email(smtp_server, student.user.email)

    page.get_by_role("link", name="Cancel session").click()
    notify = page.get_by_label("Email the students who were already told about it that it is cancelled")
    expect(notify).not_to_be_checked()
    expect(page.get_by_text("1 student already emailed about this session.")).to_be_visible()
    page.get_by_role("button", name="Cancel the session").click()
    expect(page.get_by_text("Cancelled", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    run_worker()
    assert len(smtp_server.handler.received) == 1  # the invitation only

    phone = browser.new_context(**PHONE).new_page()
    response = phone.goto(link)
    assert response.status == 410
    expect(phone.get_by_role("heading", level=1)).to_contain_text("This session was cancelled")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("will not take place")
    phone.context.close()

    page.get_by_role("link", name="Sessions", exact=True).first.click()
    expect(page.locator("#statuses, table").get_by_text("cancelled").first).to_be_visible()


def test_a_three_week_series_is_listed_together(page, portal_url, people, app):
    make_course(people["course"].program, code="CS301", name="Algorithms")
    sign_in(page, portal_url, "lecturer@example.edu")
    page.goto(f"{portal_url}/sessions/new")
    fill_session(page, people["course"].id)
    page.get_by_label("Before the session starts").check()
    page.get_by_label("Minutes before the start").fill("30")
    page.get_by_label("Repeat weekly for the next … weeks").fill("2")
    page.get_by_role("button", name="Create session").click()
    expect(page.get_by_role("status").first).to_contain_text("3 weekly sessions created")
    expect(page.get_by_text("Emails will go out at")).to_be_visible()
    page.get_by_role("link", name="Sessions", exact=True).first.click()
    expect(page.get_by_text("Weekly series", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Cancel the rest of the CS201 series")).to_be_visible()
    shot(page, "sessions-series")


def test_every_staff_page_fits_a_phone(browser, portal_url, people, app, run_worker):
    from tests.factories import link_for
    session = people["own_session"]
    student, bouncing = make_students(people["course"].program, 2)
    link_for(app, session, student)  # every student's email prepared
    EmailNotificationRepository().of_student(session.id, bouncing.id).status = "bounced"  # a late bounce
    bouncing.bounced_email, bouncing.bounced_at = bouncing.user.email, utcnow()
    bouncing.bounce_reason = "550 5.1.1 The email account that you tried to reach does not exist."
    corrected = EmailNotificationRepository().of_student(session.id, student.id)  # bounced at an address since corrected
    corrected.status, corrected.sent_to = "bounced", "an-address-before-the-correction@example.org"
    unsent = make_session(people["course"], starts_in=timedelta(hours=3), lecturer=people["lecturer"],
                          notify_minutes_before=60)  # its edit form still says when the last email leaves
    unsent.notify_at = unsent.starts_at - timedelta(minutes=60)
    db.session.commit()
    from portal.staff import password_links

    context = browser.new_context(**PHONE)
    phone = context.new_page()
    signed_out = ["/login", "/password/forgot", "/password/reset?token=expired-or-broken",
                  f"/password/reset?token={password_links.make(people['lecturer'], password_links.INVITATION)}"]
    paths = ["/sessions", "/sessions/new", f"/sessions/{session.id}", f"/sessions/{session.id}/edit",
             f"/sessions/{session.id}/cancel", f"/sessions/{session.id}/attendance", "/notifications",
             "/admin/programs", "/admin/courses", f"/admin/courses/{people['course'].id}", "/admin/staff", "/admin/import",
             "/admin/queue", f"/courses/{people['course'].id}/register", f"/admin/students/{student.id}/edit",
             "/notifications?status=bounced", "/admin/students?email=bouncing", f"/admin/students/{bouncing.id}/edit",
             f"/notifications/{corrected.id}", f"/sessions/{unsent.id}/edit"]
    too_wide = {}

    def measure(path):
        phone.goto(portal_url + path)
        width = phone.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        if width[0] > width[1]:
            too_wide[path] = width

    for path in signed_out:
        measure(path)
    sign_in(phone, portal_url, "admin@example.edu")
    for path in paths:
        measure(path)
        if path == f"/notifications/{corrected.id}":
            assert phone.locator("#sent-to").is_visible()
        if path == f"/sessions/{unsent.id}/edit":
            assert phone.locator("#timing").is_visible()
    shot(phone, "phone-sessions")
    context.close()
    assert not too_wide, f"pages wider than the phone (scroll width, screen width): {too_wide}"


def test_the_form_says_when_the_last_email_leaves_and_warns_before_saving(page, app, portal_url, people):
    import time

    from portal.delivery.pacing import record_sent
    from portal.delivery.relays import Relay

    make_students(people["course"].program, 600)
    now = int(time.time())
    for second in range(now - 70, now - 60):  # the relay's pace a minute ago: 2 emails a second
        record_sent(app.extensions["redis"], Relay.of(app.config), second, 2)
    sign_in(page, portal_url, "lecturer@example.edu")
    page.goto(f"{portal_url}/sessions/new")
    fill_session(page, people["course"].id)
    timing = page.locator("#timing")
    expect(timing).to_contain_text("The last email should leave by")  # as soon as saved, tomorrow is far off

    page.get_by_label("Before the session starts").check()
    page.get_by_label("Minutes before the start").fill("2")  # 600 emails take 5 minutes
    expect(timing).to_contain_text(re.compile(r"That is after the link opens at .*08:00"))
    expect(timing).to_contain_text("Email the students 10 minutes before the start, or earlier")
    expect(timing).to_have_class(re.compile("alert-warning"))
    shot(page, "session-form-timing")

    page.get_by_label("Minutes before the start").fill("10")
    expect(timing).not_to_contain_text("after the link opens")
    expect(timing).not_to_have_class(re.compile("alert-warning"))

    # Saved, its emails not made yet: the edit form says the same, counting its own emails once.
    page.get_by_role("button", name="Create session").click()
    page.get_by_role("link", name="Edit").click()
    expect(timing).to_contain_text("The last email should leave by")
    expect(timing).not_to_contain_text("earlier classes")
    page.get_by_label("Minutes before the start").fill("2")
    expect(timing).to_contain_text("Email the students 10 minutes before the start, or earlier")
    expect(timing).to_have_class(re.compile("alert-warning"))
