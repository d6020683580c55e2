"""Register-only sessions (`notify_at=never`): no emails and no links, allowed in the past,
marked by hand, and in the register and its CSV like any other session."""
import csv
import io
from datetime import date, timedelta

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AttendanceSession, EmailNotification, NotificationStatus
from tests.factories import make_students


def form(people, day: str, **extra) -> dict:
    course = people["course"]
    return {"course_id": str(course.id), "program_id": str(course.program_id), "stream_id": "",
            "session_date": day, "start_time": "08:00", "end_time": "10:00", "notify_at": "never", **extra}


def newest() -> AttendanceSession:
    return db.session.scalar(select(AttendanceSession).order_by(AttendanceSession.id.desc()))


def test_a_class_that_already_happened_is_recorded_and_marked_by_hand(client, auth, app, people, queue):
    students = make_students(people["course"].program, 3)
    last_week = (date.today() - timedelta(days=7)).isoformat()
    auth.login("lecturer@example.edu")
    response = client.post("/sessions/new", data=form(people, last_week))
    assert response.status_code == 302, response.get_data(as_text=True)
    session = newest()
    assert session.register_only and session.generated_at is not None
    rows = db.session.scalars(select(EmailNotification).where(EmailNotification.session_id == session.id)).all()
    assert {row.status for row in rows} == {NotificationStatus.NOT_EMAILED} and len(rows) == 3
    assert all(row.token == "" for row in rows)  # no link exists
    assert queue.job_ids == [] and app.extensions["rq_queues"]["later"].job_ids == []  # nothing to send
    page = client.get(response.location).get_data(as_text=True)
    assert "without emails: mark their attendance" in page and "Register only: no emails" in page

    attendance = client.get(f"/sessions/{session.id}/attendance").get_data(as_text=True)
    assert "3 students on the list · register only" in attendance and "Emailed, not confirmed" not in attendance
    marked = client.post(f"/sessions/{session.id}/attendance/marks",
                         data={"student_id": [str(students[0].id), str(students[1].id)], "status": "present"})
    assert marked.status_code == 303
    register = client.get(f"/courses/{people['course'].id}/register.csv").get_data(as_text=True)
    rows = {row["student_number"]: row for row in csv.DictReader(io.StringIO(register))}
    column = next(name for name in rows[students[0].student_number] if name.startswith(last_week))
    assert [rows[s.student_number][column] for s in students] == ["present", "present", "absent"]
    assert "register only: no emails" in client.get("/sessions").get_data(as_text=True)
    assert f"session_id={session.id}" not in client.get("/notifications").get_data(as_text=True)


def test_the_past_needs_never(client, auth, people):
    auth.login("lecturer@example.edu")
    last_week = (date.today() - timedelta(days=7)).isoformat()
    response = client.post("/sessions/new", data=form(people, last_week, notify_at="now"))
    assert response.status_code == 400 and "choose “Never”" in response.get_data(as_text=True)


def test_a_weekly_register_only_series_needs_no_sending_time(client, auth, people):
    make_students(people["course"].program, 2)
    auth.login("lecturer@example.edu")
    before = db.session.scalar(select(func.count()).select_from(AttendanceSession))
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    assert client.post("/sessions/new", data=form(people, tomorrow, repeat_weeks="3")).status_code == 302
    sessions = db.session.scalars(select(AttendanceSession).order_by(AttendanceSession.id.desc()).limit(4)).all()
    assert db.session.scalar(select(func.count()).select_from(AttendanceSession)) == before + 4
    assert all(s.register_only and s.series_id for s in sessions)
    assert db.session.scalar(select(func.count()).select_from(EmailNotification).where(
        EmailNotification.status == NotificationStatus.NOT_EMAILED)) == 8


def test_changing_a_register_only_sessions_stream_changes_its_list_and_emails_nobody(client, auth, people):
    a, b = people["course"].program.streams
    in_a = make_students(people["course"].program, 2, stream=a, prefix="a")
    in_b = make_students(people["course"].program, 1, stream=b, prefix="b")
    auth.login("lecturer@example.edu")
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    client.post("/sessions/new", data=form(people, tomorrow, stream_id=str(a.id)))
    session = newest()
    edit = client.get(f"/sessions/{session.id}/edit").get_data(as_text=True)
    assert 'name="notify_students"' not in edit
    response = client.post(f"/sessions/{session.id}/edit", data={**form(people, tomorrow, stream_id=str(b.id)),
                                                                 "notify_at": ""})
    assert response.status_code == 303
    flashed = client.get(response.location).get_data(as_text=True)
    assert "1 student added to its list" in flashed and "2 students taken off its list" in flashed
    statuses = dict(db.session.execute(select(EmailNotification.student_profile_id, EmailNotification.status).where(
        EmailNotification.session_id == session.id)).all())
    assert statuses == {in_a[0].id: "withdrawn", in_a[1].id: "withdrawn", in_b[0].id: "not_emailed"}


def test_the_command_creates_one_too(cli, people):
    make_students(people["course"].program, 2)
    day = (date.today() - timedelta(days=2)).isoformat()
    result = cli("create-session", "--course", "CS201", "--date", day, "--start", "08:00", "--end", "09:00",
                 "--register-only")
    assert result.exit_code == 0 and "register only" in result.output
    assert newest().register_only
