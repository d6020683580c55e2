"""The audit trail: each kind of admin action leaves one entry, and /admin/audit lists and filters them."""
import io
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent
from tests.factories import add_notifications, make_students


def actions() -> list[str]:
    """What was done, without the sign-ins that came with it (test_sign_ins_are_recorded)."""
    return list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.not_like("sign_in.%"))
                                   .order_by(AuditEvent.id)))


def test_session_edits_send_now_and_the_sweep_button_are_recorded(client, auth, people):
    """Each field before and after; Send now with the time it replaced; the sweep with what it did."""
    from portal.sessions.planning import SessionRequest, create_sessions
    from tests.factories import tomorrow

    session = people["own_session"]
    auth.login("lecturer@example.edu")
    form = {"course_id": session.course_id, "program_id": session.program_id, "stream_id": "",
            "session_date": tomorrow(), "start_time": "10:00", "end_time": "11:00", "room": "LT 9",
            "notify_at": "now"}
    assert client.post(f"/sessions/{session.id}/edit", data=form).status_code == 303
    starts = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=2)
    scheduled = create_sessions(SessionRequest(
        course_id=session.course_id, program_id=session.program_id, stream_id=None, lecturer_id=people["lecturer"].id,
        starts_at=starts, ends_at=starts + timedelta(hours=1), notify_minutes_before=60))[0]
    assert client.post(f"/sessions/{scheduled.id}/send-now").status_code == 303
    auth.logout()
    auth.login("admin@example.edu")
    assert client.post("/admin/queue/sweep").status_code == 302
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.not_like("sign_in.%"))
                                .order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["session.edit", "session.send_now", "delivery.sweep"]
    assert "room: — → LT 9" in events[0].details and "starts at: " in events[0].details
    assert events[0].actor_id == people["lecturer"].id and events[2].actor_id == people["admin"].id
    assert events[1].details.startswith("emails sent now instead of at ")


def test_each_admin_action_is_recorded(client, auth, people, cli, tmp_path):
    session, program = people["own_session"], people["course"].program
    students = make_students(program, 2)
    failed = add_notifications(session, students)
    auth.login("admin@example.edu")
    client.post("/admin/staff", data={"email": "new@example.edu", "first_name": "New", "last_name": "Person",
                                      "role": "lecturer", "password": "a long enough one"})
    client.post(f"/admin/staff/{people['other'].id}/active", data={"active": "false"})
    client.post(f"/admin/staff/{people['other'].id}/password",
                data={"new_password": "given by the admin", "confirm_password": "given by the admin"})
    client.post("/notifications/retry", data={"notification_ids": failed, "confirm": "yes"})
    client.post(f"/sessions/{session.id}/attendance/marks",
                data={"student_id": [str(students[0].id)], "status": "excused", "note": "Sick note"})
    client.post(f"/admin/students/{students[1].id}/edit", data={
        "first_name": "Renamed", "last_name": "Student", "email": students[1].user.email,
        "program_id": program.id, "stream_id": "", "active": "y"})
    client.post(f"/admin/courses/{people['course'].id}", data={
        "code": "CS201", "name": "Data Structures II", "program_code": "CS", "active": "y",
        "lecturers": [people["lecturer"].id]})
    client.post("/admin/import", data={"csv_file": (io.BytesIO(
        b"student_number,first_name,last_name,email,program_code,stream\nN1,Nia,Ng,nia@example.edu,CS,\n"),
        "s.csv"), "mode": "add"}, content_type="multipart/form-data")
    preview = client.post("/admin/import", data={"csv_file": (io.BytesIO(
        b"student_number,first_name,last_name,email,program_code,stream\nN1,Nia,Ngo,nia@example.edu,CS,\n"),
        "s.csv"), "mode": "sync"}, content_type="multipart/form-data").get_data(as_text=True)
    client.post("/admin/import/confirm", data={
        "token": re.search(r'name="token" value="([^"]+)"', preview).group(1), "action": "apply",
        "fingerprint": re.search(r'name="fingerprint" value="([^"]+)"', preview).group(1)})
    client.post(f"/sessions/{session.id}/cancel", data={})
    client.post("/account", data={"current_password": "correct horse battery", "new_password": "admins new one",
                                  "confirm_password": "admins new one"})
    client.post(f"/admin/students/{students[0].id}/card")
    client.post("/admin/queue/pause", data={"reason": "Relay maintenance tonight"})
    client.post("/admin/queue/resume")
    assert cli("set-password", "--email", "lecturer@example.edu", "--password", "from the shell").exit_code == 0

    assert actions() == ["staff.create", "staff.active", "staff.password", "notifications.retry", "attendance.mark",
                         "student.edit", "directory.edit", "students.import", "students.sync", "session.cancel",
                         "account.password", "student.card", "delivery.pause", "delivery.resume", "staff.password"]
    page = client.get("/admin/audit").get_data(as_text=True)
    rows = page.split('id="audit"')[1].split("<tbody>")[1].split("</tbody>")[0].split("<tr")[1:]
    assert len(rows) == 16  # and the admin's sign-in, the oldest
    assert "command line" in rows[0] and "lecturer@example.edu" in rows[0]  # newest first
    assert "Delivery paused" in rows[2] and "Relay maintenance tonight" in rows[2]
    assert 'data-action="attendance.mark"' in rows[10] and "1 marked excused" in rows[10] and "Sick note" in rows[10]
    assert "Ada Admin" in rows[10] and "CS201 on " in rows[10]


def test_filters(client, auth, people, cli):
    auth.login("admin@example.edu")
    client.post(f"/admin/staff/{people['other'].id}/active", data={"active": "false"})
    cli("set-password", "--email", "lecturer@example.edu", "--password", "from the shell")
    old = AuditEvent(actor_id=people["admin"].id, action="session.cancel", subject="long ago",
                     at=datetime.now(timezone.utc) - timedelta(days=40))
    db.session.add(old)
    db.session.commit()

    def listed(query):
        response = client.get(f"/admin/audit?{query}")
        assert response.status_code == 200
        return [action for action in re.findall(r'data-action="([^"]+)"', response.get_data(as_text=True))
                if not action.startswith("sign_in.")]

    assert listed("") == ["staff.password", "staff.active", "session.cancel"]
    assert listed("action=staff.active") == ["staff.active"]
    assert listed("actor=cli") == ["staff.password"]
    assert listed(f"actor={people['admin'].id}") == ["staff.active", "session.cancel"]
    today = datetime.now(timezone.utc).date()
    assert listed(f"date_from={today - timedelta(days=1)}") == ["staff.password", "staff.active"]
    assert listed(f"date_to={today - timedelta(days=30)}") == ["session.cancel"]
    for bad in ("action=nope", "actor=999999", "date_from=2026-02-30", "date_from=2026-11-20&date_to=2026-11-01"):
        assert client.get(f"/admin/audit?{bad}").status_code == 400


def test_sign_ins_are_recorded(client, auth, people):
    auth.login("lecturer@example.edu", "a wrong password")
    auth.login("nobody@example.edu", "a wrong password")
    auth.login("lecturer@example.edu")
    recorded = db.session.execute(select(AuditEvent.action, AuditEvent.subject, AuditEvent.actor_id)
                                  .order_by(AuditEvent.id)).all()
    assert recorded == [("sign_in.refused", "lecturer@example.edu", None), ("sign_in.refused", "nobody@example.edu", None),
                        ("sign_in.password", "lecturer@example.edu", people["lecturer"].id)]
