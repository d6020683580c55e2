"""Main journeys in a real browser (Playwright driving Debian's Chromium), against the app
served over HTTP, with a real `worker.py` delivering to a real SMTP server."""
import re
from datetime import timedelta
from pathlib import Path

import pytest
import segno
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import AttendanceRecord, CardCheck, EmailNotification
from tests.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE,
    CheckedBrowser,
    PageChecks,
    expect_until,
    link_in_email,
    shot,
    sign_in,
)
from tests.factories import create_session, link_for, make_session, make_students


def test_lecturer_creates_a_session_and_watches_delivery_finish(page, portal_url, worker, people, smtp_server):
    students = make_students(people["course"].program, 40)
    page.goto(f"{portal_url}/login")
    shot(page, "01-sign-in")
    sign_in(page, portal_url, "lecturer@example.edu")

    page.get_by_role("link", name="New session", exact=True).first.click()
    page.get_by_label("Course", exact=True).select_option(str(people["course"].id))
    page.get_by_label("Program", exact=True).select_option(str(people["course"].program_id))
    shot(page, "02-new-session")
    page.get_by_role("button", name="Create session").click()

    expect(page).to_have_url(re.compile(rf"{portal_url}/sessions/\d+$"))
    expect(page.get_by_role("status").first).to_contain_text("Notifying 40 students.")
    bar = page.locator("#delivery-bar")
    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=30_000)
    expect(page.locator("#delivery-state")).to_have_text("Done.")
    expect(page.locator('[data-count="sent"]')).to_have_text("40")
    expect(page.locator('#session-notifications tr[data-status="sent"]')).to_have_count(40)
    shot(page, "03-session-delivered")
    assert sorted(smtp_server.handler.recipients) == sorted(s.user.email for s in students)


def test_admin_retries_failed_notifications_and_sees_them_delivered(page, portal_url, worker, people, smtp_server,
                                                                    app):
    smtp_server.handler.refuse = ("bounce",)
    make_students(people["course"].program, 3, prefix="fine")
    make_students(people["course"].program, 2, prefix="bounce")
    session, _ = create_session(people["course"])

    def count(status):
        db.session.expire_all()
        return len(db.session.scalars(select(EmailNotification).where(EmailNotification.status == status)).all())

    expect_until(lambda: count("failed") == 2)

    sign_in(page, portal_url, "admin@example.edu")
    page.get_by_role("link", name="Notifications").click()
    page.get_by_label("Status").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tr[data-status]")).to_have_count(2)
    page.get_by_label("Select all failed or bounced on this page").check()
    expect(page.locator(".retry-box:checked")).to_have_count(2)
    shot(page, "04-failed-notifications")
    page.get_by_role("button", name="Retry selected…").click()

    expect(page.get_by_role("heading", name="Retry 2 notifications?")).to_be_visible()
    shot(page, "05-confirm-retry")
    smtp_server.handler.refuse = ()  # the mailbox problem is fixed
    page.get_by_role("button", name="Yes, retry 2").click()
    expect(page.get_by_role("status").first).to_contain_text("Retried 2 notifications")

    expect_until(lambda: count("sent") == 5)
    page.goto(f"{portal_url}/notifications?session_id={session.id}&status=sent")
    expect(page.locator('tr[data-status="sent"]')).to_have_count(5)
    shot(page, "06-retried-and-delivered")
    for number, (path, heading) in enumerate([("/sessions", "Sessions"), ("/admin/programs", "Programs and streams"),
                                              ("/admin/courses", "Courses"), ("/admin/staff", "Staff accounts"),
                                              ("/admin/import", "Import students")], start=7):
        page.goto(portal_url + path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        shot(page, f"{number:02d}-{path.strip('/').replace('/', '-')}")
    bounced = sorted(r for r in smtp_server.handler.recipients if "bounce" in r)
    assert bounced == ["bounce-0@example.edu", "bounce-1@example.edu"]  # delivered once, on the retry


ROOM = (-1.28333, 36.81667)


def test_students_confirm_from_the_emailed_link_on_site_and_are_refused_far_away(
        browser, app, portal_url, people, smtp_server, run_worker):
    from portal.delivery import queueing

    app.config["PORTAL_BASE_URL"] = portal_url
    near, far = make_students(people["course"].program, 2, prefix="phone")
    session = make_session(people["course"], starts_in=timedelta(minutes=-2), latitude=ROOM[0], longitude=ROOM[1],
                           lecturer=people["lecturer"])
    queueing.enqueue_generation(session.id)
    run_worker()

    email_view = browser.new_page(viewport={"width": 640, "height": 760})
    message = next(r.message for r in smtp_server.handler.received if r.recipient == near.user.email)
    from tests.smtp_servers import parts

    email_view.set_content(parts(message)["text/html"])
    expect(email_view.get_by_role("link", name="Mark my attendance")).to_have_attribute(
        "href", link_in_email(smtp_server, near.user.email))
    shot(email_view, "19-email")
    email_view.close()

    here = browser.new_context(**PHONE, geolocation={"latitude": ROOM[0] + 10 / 111_195, "longitude": ROOM[1]},
                               permissions=["geolocation"])
    phone = here.new_page()
    phone.goto(link_in_email(smtp_server, near.user.email))
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Data Structures")
    expect(phone.get_by_text(f"Hi {near.user.first_name},")).to_be_visible()
    shot(phone, "20-student-confirm")
    phone.get_by_role("button", name="I'm here — confirm my attendance").click()
    expect(phone.get_by_role("heading", name="Attendance recorded")).to_be_visible()
    shot(phone, "21-student-recorded")
    phone.go_back()
    phone.reload()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Attendance already recorded at")
    PageChecks.settle(phone)
    here.close()

    away = browser.new_context(**PHONE, geolocation={"latitude": ROOM[0] + 200 / 111_195, "longitude": ROOM[1]},
                               permissions=["geolocation"])
    phone = away.new_page()
    phone.goto(link_in_email(smtp_server, far.user.email))
    phone.get_by_role("button", name="I'm here — confirm my attendance").click()
    expect(phone.locator("#refusal")).to_contain_text("You are about 200 m from the session location")
    expect(phone.get_by_role("button", name="Try again")).to_be_enabled()
    shot(phone, "22-student-too-far")
    PageChecks.settle(phone)
    away.close()

    denied = browser.new_context(**PHONE)  # location permission not granted
    phone = denied.new_page()
    phone.goto(link_in_email(smtp_server, far.user.email))
    phone.get_by_role("button", name="I'm here — confirm my attendance").click()
    expect(phone.locator("#confirm-problem")).to_contain_text("Allow location")
    expect(phone.get_by_role("button", name="Try again")).to_be_enabled()
    PageChecks.settle(phone)
    denied.close()

    report = page_text(browser, portal_url, "lecturer@example.edu", f"/sessions/{session.id}/attendance")
    assert "1 of 2 confirmed" in report


def page_text(browser, base, email, path) -> str:
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base, email)
    page.goto(base + path)
    shot(page, "23-attendance-view")
    text = page.inner_text("main")
    PageChecks.settle(page)
    context.close()
    return text


def test_lecturer_fills_the_location_from_the_browser(browser, portal_url, people):
    context = browser.new_context(geolocation={"latitude": ROOM[0], "longitude": ROOM[1]},
                                  permissions=["geolocation"])
    page = context.new_page()
    sign_in(page, portal_url, "lecturer@example.edu")
    page.goto(f"{portal_url}/sessions/new")
    page.get_by_role("button", name="Use my current location").click()
    expect(page.get_by_label("Latitude")).to_have_value(f"{ROOM[0]:.6f}")
    expect(page.get_by_label("Longitude")).to_have_value(f"{ROOM[1]:.6f}")
    PageChecks.settle(page)
    context.close()


def test_admin_sees_an_emails_history_and_resumes_a_paused_delivery(page, browser, portal_url, app, people, tmp_path):
    """A relay that greylists one student once, then refuses the portal's login after a
    password change on its side: the admin reads the email's tries, sees the pause on
    every page, and resumes delivery once the relay accepts again."""
    from portal.models import Role
    from tests.factories import make_staff, statuses
    from tests.smtp_servers import ScriptedHandler, SMTPServer
    from tests.support import point_mail_at, running_worker, wait_for

    app.config.update(MAIL_RETRY_DELAYS=[1, 2], MAIL_USERNAME="portal", MAIL_PASSWORD="s3cret-pass",
                      MAIL_PAUSE_PROBE_SECONDS=3600)
    make_staff("ops@example.edu", Role.ADMIN, name=("Ola", "Ops"))
    with SMTPServer(ScriptedHandler(tempfail=("grey",), tempfail_times=1),
                    logins={("portal", "s3cret-pass")}) as relay:
        point_mail_at(app, relay.port)
        make_students(people["course"].program, 3, prefix="fine")
        grey = make_students(people["course"].program, 1, prefix="grey")[0]
        grey.user.first_name, grey.user.last_name = "Grace", "Grey"
        db.session.commit()
        first, _ = create_session(people["course"])
        with running_worker(app, tmp_path / "worker.log"):
            wait_for(lambda: statuses(first.id) == {"sent": 4}, timeout=20, what="the first session")
            sign_in(page, portal_url, "ops@example.edu")
            page.goto(f"{portal_url}/notifications?session_id={first.id}")
            page.get_by_role("link", name=grey.user.full_name).click()
            expect(page.get_by_role("heading", level=1)).to_have_text(f"Email to {grey.user.full_name}")
            expect(page.locator("#attempts tr[data-outcome]")).to_have_count(2)
            expect(page.locator('#attempts tr[data-outcome="transient"]')).to_contain_text("Greylisted")
            expect(page.locator("#message-id")).to_contain_text("@example.edu>")
            shot(page, "13-email-history")

            wait_for(lambda: relay.open_now == 0, timeout=15, what="idle connections to close")
            relay.logins = set()  # the relay's password was changed, the portal's was not
            second, _ = create_session(people["course"])
            wait_for(lambda: " paused: " in (tmp_path / "worker.log").read_text(), what="the pause")
            page.goto(f"{portal_url}/sessions")
            expect(page.locator("#pause-banner")).to_contain_text("refused the login")
            page.locator("#pause-banner").get_by_role("link", name="Delivery queue").click()
            expect(page.locator("#delivery-state")).to_contain_text("Delivery paused")
            expect(page.locator("#waiting")).to_contain_text("4 emails waiting to be sent")
            expect(page.locator("#waiting")).to_contain_text("when delivery resumes")
            shot(page, "14-delivery-paused")
            assert statuses(second.id) == {"pending": 4}

            second.lecturer_id = people["lecturer"].id  # the lecturer's own session: they see why it waits
            db.session.commit()
            lecturer = browser.new_page()
            sign_in(lecturer, portal_url, "lecturer@example.edu")
            expect(lecturer.locator("#pause-banner")).to_contain_text("Email delivery is paused")
            expect(lecturer.locator("#pause-banner").get_by_role("link")).to_have_count(0)  # the queue is admins'
            lecturer.goto(f"{portal_url}/sessions/{second.id}")
            expect(lecturer.locator("#session-paused")).to_contain_text("this session's 4 waiting emails go out")
            shot(lecturer, "14b-lecturer-sees-the-pause")
            PageChecks.settle(lecturer)
            lecturer.context.close()

            relay.logins = {("portal", "s3cret-pass")}  # fixed on the relay
            page.get_by_role("button", name="Resume delivery").click()
            expect(page.get_by_role("status").first).to_contain_text("Delivery resumed")
            expect(page.locator("#delivery-state")).to_contain_text("Delivery running")
            page.goto(f"{portal_url}/sessions")
            expect(page.locator("#pause-banner")).to_have_count(0)
            wait_for(lambda: statuses(second.id) == {"sent": 4}, timeout=20, what="delivery after Resume")


def test_admin_sees_each_relay_and_pauses_and_resumes_one(page, portal_url, app, people, tmp_path):
    """Two sending accounts: one refuses the portal's login (its password expired), the other
    carries the class; the admin sees both, pauses the second for maintenance (the queue is then
    paused) and resumes it."""
    from portal.models import Role
    from tests.factories import make_staff, statuses
    from tests.smtp_servers import ScriptedHandler, SMTPServer
    from tests.support import running_worker, use_relays, wait_for

    make_staff("ops@example.edu", Role.ADMIN, name=("Ola", "Ops"))
    with SMTPServer(ScriptedHandler(), logins=set()) as campus, SMTPServer(ScriptedHandler(latency=0.01)) as backup:
        use_relays(app, tmp_path / "relays.toml",
                   {"name": "campus", "server": "127.0.0.1", "port": campus.port, "username": "portal",
                    "password": "s3cret-pass", "sender": "attendance@example.edu", "daily_limit": 10000},
                   {"name": "m365", "server": "127.0.0.1", "port": backup.port, "sender": "attendance@example.edu",
                    "rate_limit": "30/minute", "max_connections": 3})
        make_students(people["course"].program, 6)
        session, _ = create_session(people["course"])
        with running_worker(app, tmp_path / "worker.log"):
            wait_for(lambda: statuses(session.id) == {"sent": 6}, timeout=30, what="the class, through m365")
            sign_in(page, portal_url, "ops@example.edu")
            page.goto(f"{portal_url}/admin/queue")
            expect(page.locator("#delivery-state")).to_contain_text("Delivery running through 1 of 2 relays.")
            expect(page.locator('tr[data-relay="campus"]')).to_contain_text("refused the login")
            expect(page.locator('tr[data-relay="m365"]')).to_contain_text("6 in the last hour")
            shot(page, "15-delivery-relays")
            row = page.locator('tr[data-relay="m365"]')
            row.get_by_label("Why pause m365").fill("Mailbox maintenance")
            row.get_by_role("button", name="Pause m365").click()
            expect(page.locator("#delivery-state")).to_contain_text("Delivery paused")
            expect(page.locator("#delivery-state")).to_contain_text("Mailbox maintenance")
            page.locator('tr[data-relay="m365"]').get_by_role("button", name="Resume m365").click()
            expect(page.get_by_role("status").first).to_contain_text("Delivery through m365 resumed")
            expect(page.locator("#delivery-state")).to_contain_text("Delivery running through 1 of 2 relays.")


# --- the student-card scan, with a fake camera ---------------------------------------------
# Debian's Chromium on a phone-sized page, whose fake camera films a QR code. The test makes
# the film itself (a Y4M video drawn from segno's matrix of the card code), so what the page
# decodes with the vendored jsQR is exactly what a printed card holds.

WIDTH, HEIGHT = 640, 480


def qr_video(path: Path, text: str, frames: int = 5) -> Path:
    """A few identical I420 frames of `text`'s QR code, black on white, in the middle of the picture."""
    matrix = [list(row) for row in segno.make(text, error="m", micro=False).matrix]
    border = 4
    modules = len(matrix) + 2 * border
    size = min(WIDTH, HEIGHT) * 3 // 4 // modules
    left, top = (WIDTH - modules * size) // 2, (HEIGHT - modules * size) // 2
    luma = bytearray([235]) * (WIDTH * HEIGHT)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(size):
                    start = (top + (border + y) * size + dy) * WIDTH + left + (border + x) * size
                    luma[start:start + size] = bytes([16]) * size
    chroma = bytes([128]) * (WIDTH // 2 * HEIGHT // 2)
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            video.write(b"FRAME\n" + bytes(luma) + chroma + chroma)
    return path


@pytest.fixture
def camera_browser(playwright, page_checks):
    """`open(video)`: a checked browser whose fake camera films `video`."""
    launched = []

    def open_with(video: Path | None) -> CheckedBrowser:
        args = CHROMIUM_ARGS + ["--use-fake-device-for-media-stream"]
        if video:
            args.append(f"--use-file-for-fake-video-capture={video}")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        launched.append(browser)
        return CheckedBrowser(browser, page_checks)

    yield open_with
    for browser in launched:
        browser.close()


def card_of(profile) -> str | None:
    db.session.expire_all()
    record = db.session.scalar(select(AttendanceRecord).where(AttendanceRecord.student_profile_id == profile.id))
    return record.card_check if record else None


SCAN = "Scan my student card and confirm"


def test_a_student_scans_their_card_and_a_friends_card_is_refused(app, people, portal_url, camera_browser, tmp_path):
    app.config["PORTAL_BASE_URL"] = portal_url
    session = make_session(people["course"], starts_in=timedelta(minutes=-1), lecturer=people["lecturer"],
                           require_id_scan=True)
    student, friend = make_students(people["course"].program, 2)

    browser = camera_browser(qr_video(tmp_path / "own.y4m", student.card_code))
    phone = browser.new_context(**PHONE, permissions=["camera"]).new_page()
    phone.goto(f"{portal_url}/attendance?token={link_for(app, session, student)}")
    expect(phone.get_by_role("button", name="Can't scan? Confirm without my card")).to_be_visible()
    shot(phone, "24-student-scan-confirm")
    phone.get_by_role("button", name=SCAN).click()
    expect(phone.get_by_role("heading", name="Attendance recorded")).to_be_visible(timeout=20_000)
    expect(phone.get_by_text("Your student card was scanned.")).to_be_visible()
    PageChecks.settle(phone)
    assert card_of(student) == CardCheck.SCANNED

    # The friend's link, filmed with the student's card: refused, and the link is not used up.
    phone = browser.new_context(**PHONE, permissions=["camera"]).new_page()
    phone.goto(f"{portal_url}/attendance?token={link_for(app, session, friend)}")
    phone.get_by_role("button", name=SCAN).click()
    expect(phone.locator("#refusal")).to_contain_text("This is not your student card", timeout=20_000)
    expect(phone.get_by_role("button", name="Can't scan? Confirm without my card")).to_be_visible()  # right there
    shot(phone, "24b-student-not-your-card")
    PageChecks.settle(phone)
    assert card_of(friend) is None


def test_a_denied_camera_says_so_and_cant_scan_is_flagged_for_the_lecturer(app, people, portal_url, camera_browser,
                                                                         tmp_path):
    app.config["PORTAL_BASE_URL"] = portal_url
    session = make_session(people["course"], starts_in=timedelta(minutes=-1), lecturer=people["lecturer"],
                           require_id_scan=True)
    student = make_students(people["course"].program, 1)[0]
    browser = camera_browser(qr_video(tmp_path / "own.y4m", student.card_code))

    phone = browser.new_context(**PHONE).new_page()  # camera permission not granted
    phone.goto(f"{portal_url}/attendance?token={link_for(app, session, student)}")
    phone.get_by_role("button", name=SCAN).click()
    expect(phone.locator("#confirm-problem")).to_contain_text("Camera access is blocked")
    expect(phone.get_by_role("button", name="Try again")).to_be_enabled()
    shot(phone, "25-student-camera-blocked")
    phone.get_by_role("button", name="Can't scan? Confirm without my card").click()
    expect(phone.get_by_role("heading", name="Attendance recorded")).to_be_visible()
    expect(phone.get_by_text("your lecturer will check")).to_be_visible()
    PageChecks.settle(phone)
    assert card_of(student) == CardCheck.NOT_SCANNED

    lecturer = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(lecturer, portal_url, "lecturer@example.edu")
    lecturer.goto(f"{portal_url}/sessions/{session.id}/attendance")
    expect(lecturer.locator("#to-review")).to_contain_text("For review: 1 confirmation")
    expect(lecturer.locator("#review-list")).to_contain_text("card not scanned")
    expect(lecturer.locator(f"#record-{_record_id(student)}")).to_contain_text("card not scanned")
    shot(lecturer, "26-attendance-card-not-scanned")
    lecturer.get_by_role("button", name=f"Reject: {student.user.first_name} {student.user.last_name}").click()
    expect(lecturer.locator("#attendance-summary")).to_contain_text("0 of 1 confirmed · 1 rejected")
    expect(lecturer.locator("#rejected")).to_contain_text("rejected by Lee Lecturer")
    PageChecks.settle(lecturer)


def test_an_admin_prints_cards_and_reissues_a_lost_one(app, people, portal_url, camera_browser):
    students = make_students(people["course"].program, 3)
    browser = camera_browser(None)
    admin = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(admin, portal_url, "admin@example.edu")
    admin.goto(f"{portal_url}/admin/cards")
    admin.get_by_label("Program").select_option(str(people["course"].program_id))
    admin.get_by_role("button", name="Show cards").click()
    expect(admin.locator(".id-card")).to_have_count(3)
    expect(admin.locator(".id-card svg")).to_have_count(3)
    shot(admin, "27-admin-cards")
    admin.get_by_role("link", name=f"New card code for {students[0].user.full_name}").click()
    admin.get_by_role("button", name="Give a new card code").click()
    expect(admin.get_by_role("status").filter(has_text="has a new card code")).to_be_visible()
    PageChecks.settle(admin)
    db.session.expire_all()
    assert students[0].card_code != students[0].student_number  # reloaded


def _record_id(profile) -> int:
    return db.session.scalar(select(AttendanceRecord.id).where(AttendanceRecord.student_profile_id == profile.id))
