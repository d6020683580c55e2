"""Staff accounts and the directory: changing one's own password, an admin setting a staff
member's, editing and deactivating programs, streams and courses."""
import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, Course, Program, Stream
from tests.factories import PASSWORD, make_course, tomorrow
from tests.support import opens_pages


def events(action):
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_changing_ones_own_password_ends_the_other_sessions(app, client, auth, people):
    other_device = app.test_client()
    other_device.post("/login", data={"email": "lecturer@example.edu", "password": PASSWORD})
    assert opens_pages(other_device)
    auth.login("lecturer@example.edu")
    response = client.post("/account", data={"current_password": PASSWORD, "new_password": "a much newer secret",
                                             "confirm_password": "a much newer secret"})
    assert response.status_code == 303
    assert "every other sign-in of your account has ended" in client.get(response.location).get_data(as_text=True)
    assert opens_pages(client)  # this browser stays signed in
    assert not opens_pages(other_device)  # the other one is signed out
    auth.logout()
    assert auth.login("lecturer@example.edu", "a much newer secret").status_code in (302, 303)
    [event] = events("account.password")
    assert event.actor_id == people["lecturer"].id


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"current_password": "wrong one"}, "current_password", "That is not your current password"),
    ({"new_password": "short", "confirm_password": "short"}, "new_password", "at least 10"),
    ({"confirm_password": "something else!"}, "confirm_password", "not the same"),
    ({"new_password": PASSWORD, "confirm_password": PASSWORD}, "new_password", "different from the current"),
])
def test_a_refused_password_change_says_why(client, auth, people, data, field, message):
    auth.login("lecturer@example.edu")
    form = {"current_password": PASSWORD, "new_password": "a much newer secret",
            "confirm_password": "a much newer secret", **data}
    response = client.post("/account", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and message in html and f'id="{field}-error"' in html
    db.session.refresh(people["lecturer"])
    assert people["lecturer"].check_password(PASSWORD)


def test_an_admin_sets_a_staff_members_password(app, client, auth, people):
    lecturer_browser = app.test_client()
    lecturer_browser.post("/login", data={"email": "lecturer@example.edu", "password": PASSWORD})
    assert opens_pages(lecturer_browser)
    auth.login("admin@example.edu")
    page = client.get("/admin/staff").get_data(as_text=True)
    assert f'/admin/staff/{people["lecturer"].id}/password' in page
    response = client.post(f"/admin/staff/{people['lecturer'].id}/password",
                           data={"new_password": "given by the admin", "confirm_password": "given by the admin"})
    assert response.status_code == 303
    assert not opens_pages(lecturer_browser)  # their old session ended
    db.session.refresh(people["lecturer"])
    assert people["lecturer"].check_password("given by the admin")
    [event] = events("staff.password")
    assert (event.actor_id, event.subject) == (people["admin"].id, "lecturer@example.edu")
    mismatch = client.post(f"/admin/staff/{people['lecturer'].id}/password",
                           data={"new_password": "given by the admin", "confirm_password": "another"})
    assert mismatch.status_code == 400
    auth.logout()
    auth.login("other@example.edu")
    assert client.post(f"/admin/staff/{people['lecturer'].id}/password",
                       data={"new_password": "x" * 12, "confirm_password": "x" * 12}).status_code == 403


def test_editing_and_deactivating_a_course_keeps_its_sessions(client, auth, people):
    course, session = people["course"], people["own_session"]
    auth.login("admin@example.edu")
    response = client.post(f"/admin/courses/{course.id}", data={
        "code": "CS201", "name": "Data Structures and Algorithms", "program_code": "CS",
        "lecturers": [people["lecturer"].id]})  # "active" unticked
    assert response.status_code == 303
    assert "name: Data Structures → Data Structures and Algorithms; active: True → False" in client.get(
        response.location).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Course, course.id).is_active is False
    [event] = events("directory.edit")
    assert event.subject == "course CS201" and "active: True → False" in event.details

    auth.logout()
    auth.login("lecturer@example.edu")
    new_form = client.get("/sessions/new").get_data(as_text=True)
    assert "CS201" not in new_form.split('id="course_id"')[1].split("</select>")[0]
    refused = client.post("/sessions/new", data={
        "course_id": course.id, "program_id": course.program_id, "session_date": tomorrow(),
        "start_time": "08:00", "end_time": "09:00", "notify_at": "now", "radius_m": "30"})
    assert refused.status_code == 400
    edit_form = client.get(f"/sessions/{session.id}/edit").get_data(as_text=True)
    assert "CS201" in edit_form.split('id="course_id"')[1].split("</select>")[0]  # an existing session keeps it
    assert client.get(f"/sessions/{session.id}").status_code == 200
    assert client.get(f"/courses/{course.id}/register").status_code == 200


def test_renaming_a_program_and_a_stream(client, auth, people):
    program = people["course"].program
    stream = program.streams[0]
    auth.login("admin@example.edu")
    assert client.post(f"/admin/programs/{program.id}/edit", data={
        "code": "CSC", "name": "Computer Science", "active": "y"}).status_code == 303
    assert client.post(f"/admin/streams/{stream.id}/edit", data={"name": "Morning"}).status_code == 303
    db.session.expire_all()
    program, renamed = db.session.get(Program, program.id), db.session.get(Stream, stream.id)
    assert (program.code, renamed.name, renamed.is_active) == ("CSC", "Morning", False)
    taken = client.post(f"/admin/streams/{stream.id}/edit", data={"name": "B", "active": "y"})
    assert taken.status_code == 400 and "already has a stream" in taken.get_data(as_text=True)
    make_course(program, code="LAW1", name="x")
    duplicate = client.post(f"/admin/courses/{people['course'].id}", data={
        "code": "LAW1", "name": "x", "program_code": "CSC", "active": "y"})
    assert duplicate.status_code == 400 and "course LAW1 already exists" in duplicate.get_data(as_text=True)


def test_only_admins_edit_the_directory(client, auth, people):
    auth.login("lecturer@example.edu")
    course = people["course"]
    for path in (f"/admin/courses/{course.id}", f"/admin/programs/{course.program_id}/edit",
                 f"/admin/streams/{course.program.streams[0].id}/edit", "/admin/audit"):
        assert client.get(path).status_code == 403
