"""Teaching assignments: admins say who teaches each course (its page, or `assign-lecturer`); a
lecturer creates sessions only of their courses and sees only their courses' registers."""
import re

from flask_migrate import downgrade, stamp, upgrade
from sqlalchemy import func, select, text

from portal.extensions import db
from portal.models import AttendanceSession, AuditEvent, Role, TeachingAssignment
from tests.factories import make_course, make_staff, tomorrow
from tests.support import error_next_to


def assigned(course) -> set[str]:
    db.session.expire_all()
    return set(db.session.scalars(select(TeachingAssignment.user_id).where(TeachingAssignment.course_id == course.id)))


def new_session(people, course) -> dict:
    return {"course_id": str(course.id), "program_id": str(course.program_id), "stream_id": "",
            "session_date": tomorrow(), "start_time": "08:00", "end_time": "10:00"}


def test_a_lecturer_is_offered_only_the_courses_they_teach(client, auth, people):
    other_course = make_course(people["course"].program, code="CS999", name="Compilers")
    auth.login("lecturer@example.edu")
    page = client.get("/sessions/new").get_data(as_text=True)
    assert "CS201" in page and "CS999" not in page
    before = db.session.scalar(select(func.count()).select_from(AttendanceSession))
    response = client.post("/sessions/new", data=new_session(people, other_course))
    assert response.status_code == 400
    assert "Lee Lecturer does not teach CS999" in error_next_to(response.get_data(as_text=True), "course_id")
    assert db.session.scalar(select(func.count()).select_from(AttendanceSession)) == before
    assert client.post("/sessions/new", data=new_session(people, people["course"])).status_code == 302
    auth.logout()
    auth.login("admin@example.edu")  # admins teach nothing and may create any course's sessions
    assert "CS999" in client.get("/sessions/new").get_data(as_text=True)
    assert client.post("/sessions/new", data=new_session(people, other_course)).status_code == 302


def test_a_session_keeps_its_course_when_its_lecturer_is_taken_off_it(client, auth, people):
    db.session.delete(db.session.scalar(select(TeachingAssignment)))
    db.session.commit()
    auth.login("lecturer@example.edu")
    session = people["own_session"]
    page = client.get(f"/sessions/{session.id}/edit").get_data(as_text=True)
    assert re.search(r'<option[^>]*selected[^>]*value="%d"[^>]*>CS201|<option[^>]*value="%d"[^>]*selected[^>]*>CS201'
                     % (people["course"].id, people["course"].id), page)


def test_the_course_page_assigns_and_removes_lecturers_and_audits_it(client, auth, people):
    course = people["course"]
    auth.login("admin@example.edu")
    page = client.get(f"/admin/courses/{course.id}").get_data(as_text=True)
    assert "Lee Lecturer (lecturer@example.edu)" in page and "Olu Other (other@example.edu)" in page
    assert client.get(f"/admin/courses/{course.id}/edit").location == f"/admin/courses/{course.id}"  # the old address
    form = {"code": "CS201", "name": "Data Structures", "program_code": course.program.code, "active": "y"}
    response = client.post(f"/admin/courses/{course.id}", data={**form, "lecturers": [people["other"].id]})
    assert response.status_code == 303
    assert assigned(course) == {people["other"].id}
    details = db.session.scalar(select(AuditEvent.details).where(AuditEvent.action == "course.lecturers"))
    assert details == "Lee Lecturer no longer teaches CS201; Olu Other now teaches CS201"
    courses = client.get("/admin/courses").get_data(as_text=True)
    assert "<td>Olu Other</td>" in courses and "<td>Lee Lecturer</td>" not in courses


def test_only_lecturers_can_be_assigned_and_nothing_is_half_saved(client, auth, people):
    course = people["course"]
    auth.login("admin@example.edu")
    form = {"code": "CS201-NEW", "name": "Data Structures", "program_code": course.program.code, "active": "y"}
    for bad in ([people["admin"].id], [987654], ["x"]):
        response = client.post(f"/admin/courses/{course.id}", data={**form, "lecturers": bad})
        assert response.status_code == 400, bad
    db.session.expire_all()
    assert course.course_code == "CS201" and assigned(course) == {people["lecturer"].id}


def test_assign_lecturer_command(cli, people):
    course = people["course"]
    result = cli("assign-lecturer", "--course", "CS201", "--email", "other@example.edu")
    assert result.exit_code == 0 and "Olu Other now teaches CS201" in result.output
    assert assigned(course) == {people["lecturer"].id, people["other"].id}
    assert "already teaches" in cli("assign-lecturer", "--course", "CS201", "--email", "other@example.edu").output
    result = cli("assign-lecturer", "--course", "CS201", "--email", "lecturer@example.edu", "--remove")
    assert result.exit_code == 0 and assigned(course) == {people["other"].id}
    for args, message in ((["--course", "NOPE", "--email", "other@example.edu"], "unknown course"),
                          (["--course", "CS201", "--email", "admin@example.edu"], "is not a lecturer's account"),
                          (["--course", "CS201", "--email", "nobody@example.edu"], "is not a lecturer's account")):
        result = cli("assign-lecturer", *args)
        assert result.exit_code != 0 and message in result.output
    actor = db.session.scalar(select(AuditEvent.actor_id).where(AuditEvent.action == "course.lecturers"))
    assert actor is None  # the command line


def test_a_deactivated_lecturer_cannot_be_assigned(cli, people):
    quiet = make_staff("quiet@example.edu", Role.LECTURER, name=("Qi", "Quiet"))
    quiet.is_active = False
    db.session.commit()
    result = cli("assign-lecturer", "--course", "CS201", "--email", "quiet@example.edu")
    assert result.exit_code != 0 and "deactivated" in result.output


def test_the_migration_assigns_lecturers_to_the_courses_they_have_sessions_of(app, people):
    """Upgrade a database as it was before teaching assignments, holding sessions of two lecturers
    and an admin: each lecturer teaches what they had sessions of; the admin is not assigned."""
    admin_session = AttendanceSession(course=people["course"], program=people["course"].program,
                                      lecturer=people["admin"], starts_at=people["own_session"].starts_at,
                                      ends_at=people["own_session"].ends_at)
    db.session.add(admin_session)
    db.session.execute(text("DELETE FROM teaching_assignments"))
    db.session.commit()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    stamp(revision="head")  # the schema the tests built is the newest one
    try:
        downgrade(revision="4a7c9e1b3d65")  # the database as it was, with its sessions
        assert "teaching_assignments" not in db.inspect(db.engine).get_table_names()
        upgrade()
        pairs = set(db.session.execute(text("SELECT course_id, user_id FROM teaching_assignments")).all())
        assert pairs == {(people["course"].id, people["lecturer"].id), (people["course"].id, people["other"].id)}
    finally:
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
