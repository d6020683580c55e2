"""The register in a real browser: a lecturer marks two students by hand, watches the attendance
view refresh by itself, and opens the course register; an admin's student, sync and audit pages."""
import re
from datetime import timedelta

from playwright.sync_api import expect

from portal.extensions import db
from portal.models import AttendanceRecord
from tests.browser import PageChecks, shot, sign_in
from tests.factories import add_notifications, make_session, make_students


def status_cell(register, student):
    """The status column of a student's row on the attendance view."""
    return register.locator(f"#student-{student.id} td").nth(2)


def test_a_lecturer_marks_two_students_and_opens_the_register(page, portal_url, people):
    course, lecturer = people["course"], people["lecturer"]
    ama, ben, cy = make_students(course.program, 3, prefix="reg")
    for student, (first, last) in zip((ama, ben, cy), (("Ama", "Appiah"), ("Ben", "Bello"), ("Cy", "Chu"))):
        student.user.first_name, student.user.last_name = first, last
    earlier = make_session(course, starts_in=timedelta(days=-8), lecturer=lecturer, room="LT 1")
    ended = make_session(course, starts_in=timedelta(days=-1), lecturer=lecturer, room="LT 1")
    for session in (earlier, ended):
        add_notifications(session, [ama, ben, cy], status="sent", error=None)
    for session, student in ((earlier, ben), (earlier, cy), (ended, ama)):
        db.session.add(AttendanceRecord(session_id=session.id, student_profile_id=student.id, ip_address="10.0.0.5",
                                        recorded_at=session.starts_at + timedelta(minutes=3)))
    db.session.commit()

    sign_in(page, portal_url, "lecturer@example.edu")
    page.goto(f"{portal_url}/sessions/{ended.id}/attendance")
    register = page.locator("#statuses")
    expect(status_cell(register, ama)).to_have_text("present")
    expect(status_cell(register, ben)).to_have_text("absent")

    # One form, one Save: Ben present with a note, Ama (already present) left on "no change".
    register.get_by_label("New status for Ben Bello").select_option("present")
    register.get_by_label("Note for Ben Bello").fill("Phone died; signed the paper list")
    expect(page.locator("#grid-pending")).to_have_text("1 student to change: not saved yet")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status").first).to_contain_text("Saved: 1 student marked.")
    expect(status_cell(register, ben)).to_have_text("present")
    expect(register.locator(f"#student-{ben.id}")).to_contain_text("by hand: Lee Lecturer")
    expect(register.locator(f"#student-{ama.id}")).not_to_contain_text("by hand")  # unchanged rows are not marked
    expect(register.get_by_text("History (1)")).to_have_count(1)

    register.get_by_label("Tick Cy Chu").check()
    page.get_by_label("Mark the ticked students as").select_option("excused")
    page.get_by_label("Note (optional)").fill("Sports team away game")
    page.get_by_role("button", name="Mark ticked").click()
    cy_row = register.locator(f"#student-{cy.id}")
    expect(status_cell(register, cy)).to_have_text("excused")
    cy_row.get_by_text("History (1)").click()
    expect(cy_row).to_contain_text("absent → excused (“Sports team away game”)")
    shot(page, "attendance-marked-by-hand")

    page.get_by_role("link", name="Sessions", exact=True).first.click()
    page.get_by_role("link", name="Register of CS201").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Register: CS201 — Data Structures")
    grid = page.locator("#register")
    expect(page.locator("#register-summary")).to_contain_text("1 below 75%")
    for student, letters, rate in ((ama, "AP", "50% (1/2) below 75%"), (ben, "PP", "100% (2/2)"),
                                   (cy, "PE", "100% (1/1)")):
        row = grid.locator("tr", has_text=student.student_number)
        expect(row.locator("td").nth(0)).to_have_text(letters[0])
        expect(row.locator("td").nth(1)).to_have_text(letters[1])
        expect(row.locator("td").last).to_have_text(rate)
    expect(grid.locator("tr.low-attendance")).to_have_count(1)
    shot(page, "course-register")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename == "register-CS201.csv"


def test_the_attendance_view_refreshes_while_the_session_is_open(page, portal_url, people):
    session = people["own_session"]  # starts in 5 minutes: open for the next hour
    [student] = make_students(people["course"].program, 1)
    add_notifications(session, [student], status="sent", error=None)
    sign_in(page, portal_url, "lecturer@example.edu")
    page.goto(f"{portal_url}/sessions/{session.id}/attendance")
    expect(page.get_by_text("This page refreshes by itself")).to_be_visible()
    register = page.locator("#statuses")
    expect(status_cell(register, student)).to_have_text("not yet")
    db.session.add(AttendanceRecord(session_id=session.id, student_profile_id=student.id, ip_address="10.0.0.9",
                                    recorded_at=session.starts_at))
    db.session.commit()
    expect(status_cell(register, student)).to_have_text("present", timeout=25_000)  # no reload: swapped in
    expect(page.locator("#attendance-summary")).to_contain_text("1 of 1 confirmed")
    expect(page.get_by_text("This page refreshes by itself")).to_be_visible()  # the page itself was not reloaded


def test_an_admin_finds_a_student_previews_a_sync_and_reads_the_audit(page, portal_url, people, tmp_path):
    program = people["course"].program
    [student] = make_students(program, 1, prefix="sync")
    student.user.first_name, student.user.last_name = "Efua", "Mensah"
    db.session.commit()
    sign_in(page, portal_url, "admin@example.edu")
    page.goto(f"{portal_url}/admin/students")
    page.get_by_role("searchbox", name="Search").fill("mensah")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#students-found")).to_have_text("1 student found.")
    shot(page, "admin-students")

    export = tmp_path / "registry.csv"
    export.write_text("student_number,first_name,last_name,email,program_code,stream\n"
                      f"{student.student_number},Efua,Mensah-Boateng,{student.user.email},CS,A\n"
                      "NEW-1,Kofi,Asante,kofi@example.edu,CS,B\n")
    page.goto(f"{portal_url}/admin/import")
    page.get_by_label("Students CSV").set_input_files(str(export))
    page.get_by_label(re.compile("^Sync with the registry")).check()
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#sync-counts")).to_contain_text("1 to add, 1 to update")
    expect(page.locator("#sync-changed")).to_contain_text("Mensah-Boateng")
    shot(page, "sync-preview")
    page.get_by_role("button", name="Apply these changes").click()
    expect(page.get_by_role("status").first).to_contain_text("Sync done: 1 added, 1 updated")

    page.goto(f"{portal_url}/admin/audit")
    expect(page.locator("#audit tbody tr").first).to_contain_text("Students synchronised")
    shot(page, "admin-audit")


def test_the_edit_pages_in_a_browser(page, portal_url, people):
    """The directory's edit pages, a staff password and one's own account, each checked by Nu and axe."""
    course, program = people["course"], people["course"].program
    [student] = make_students(program, 1, prefix="edit")
    sign_in(page, portal_url, "admin@example.edu")
    for path in (f"/admin/programs/{program.id}/edit", f"/admin/streams/{program.streams[0].id}/edit",
                 f"/admin/staff/{people['lecturer'].id}/password", f"/admin/students/{student.id}/edit"):
        page.goto(portal_url + path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        shot(page, "edit-" + path.strip("/").replace("/", "-"))
    page.goto(f"{portal_url}/admin/courses/{course.id}")
    page.get_by_label("Course name").fill("Data Structures II")
    page.get_by_label("Active").uncheck()
    page.get_by_role("button", name="Save course").click()
    expect(page.get_by_role("status").first).to_contain_text("Course CS201: course name: Data Structures → Data Structures II")
    PageChecks.settle(page)  # the courses page is audited before the next one replaces it
    page.goto(f"{portal_url}/account")
    page.get_by_label("Current password").fill("not it at all")
    page.get_by_label("New password", exact=True).fill("a brand new password")
    page.get_by_label("New password again").fill("a brand new password")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#current_password-error")).to_have_text("That is not your current password")
    shot(page, "account")
