"""Every page the portal serves, as each role meets it (shared by the page checks)."""
import io
from datetime import timedelta

from sqlalchemy import select

from portal.database import utcnow
from portal.extensions import db
from portal.models import AttendanceSession, DeliveryAttempt, EmailNotification
from portal.services.jwt_service import JWTTokenService
from portal.services.notification_generation_service import NotificationGenerationService
from tests.factories import make_notification, make_session, make_students


def html_of(response, label: str) -> str:
    assert response.mimetype == "text/html", (label, response.status_code, response.mimetype)
    return response.get_data(as_text=True)


def every_page(app, client, auth, people) -> dict[str, str]:
    """Every page the portal serves, for every role and in its error states ({label: html}): for
    the HTML checker here, and for the pseudo-language's sweep (tests/test_pseudo_locale.py)."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    session = people["own_session"]
    students = make_students(people["course"].program, 3)
    failed = make_notification(session, students[0], status="failed")
    bounced = make_notification(session, students[1], status="bounced")  # a late bounce (portal.bounces)
    reason = "550 5.1.1 <x@example.org>: Recipient address rejected: User unknown"
    db.session.add(DeliveryAttempt(notification_id=bounced.id, attempted_at=utcnow(), outcome="bounced",
                                   smtp_code=550, detail=reason, relay="default", report_id="<r1@mx1>"))
    students[1].bounced_email, students[1].bounced_at, students[1].bounce_reason = (students[1].user.email, utcnow(),
                                                                                    reason)
    corrected = make_notification(session, students[2], status="bounced")  # went to an address since corrected
    corrected.sent_to = "before-the-correction@example.org"
    db.session.commit()
    open_session = make_session(people["course"], starts_in=timedelta(minutes=-1), latitude=-1.28, longitude=36.8)
    NotificationGenerationService(JWTTokenService.from_config(app.config)).generate_notifications_for_session(
        open_session.id)
    pages = {}

    def get(label, path, **kwargs):
        pages[label] = html_of(client.get(path, **kwargs), label)

    def post(label, path, data, **kwargs):
        pages[label] = html_of(client.post(path, data=data, **kwargs), label)

    get("sign-in", "/login")
    post("sign-in refused", "/login", {"email": "nobody@example.edu", "password": "wrong password"})
    get("not found", "/no-such-page")
    get("forgot password", "/password/forgot")
    post("forgot password, asked", "/password/forgot", {"email": "nobody@example.edu"})
    from portal.staff import password_links

    link = f"/password/reset?token={password_links.make(people['lecturer'], password_links.INVITATION)}"
    get("choose a password", link)
    post("choose a password with errors", link, {"password": "short", "confirm": "other"})
    get("password link refused", "/password/reset?token=garbage")
    token = db.session.scalar(select(EmailNotification.token).where(EmailNotification.session_id == open_session.id))
    get("student confirm", f"/attendance?token={token}")
    post("student too far", "/attendance", {"token": token, "latitude": "0", "longitude": "0"})
    get("student bad link", "/attendance?token=garbage")
    other = db.session.scalar(select(EmailNotification.token).where(EmailNotification.session_id == open_session.id,
                                                                     EmailNotification.token != token))
    post("student position uncertain, recorded", "/attendance",
         {"token": other, "latitude": "-1.2796", "longitude": "36.8", "accuracy": "35"})
    get("student already recorded", f"/attendance?token={other}")
    later = make_session(people["course"], starts_in=timedelta(hours=1), lecturer=people["lecturer"])
    NotificationGenerationService(JWTTokenService.from_config(app.config)).generate_notifications_for_session(later.id)
    get("student not open yet", "/attendance?token=" + db.session.scalar(
        select(EmailNotification.token).where(EmailNotification.session_id == later.id)))

    auth.login("lecturer@example.edu")
    get("sessions", "/sessions")
    get("new session", "/sessions/new")
    post("new session with errors", "/sessions/new", {"course_id": "", "program_id": "", "session_date": "x",
                                                       "start_time": "", "end_time": "", "latitude": "nan"})
    get("session", f"/sessions/{session.id}")
    get("edit session", f"/sessions/{session.id}/edit")
    post("edit session with errors", f"/sessions/{session.id}/edit", {"course_id": str(session.course_id),
                                                                      "program_id": "", "notify_at": "before"})
    get("cancel session", f"/sessions/{session.id}/cancel")
    client.post("/sessions/new", data={
        "course_id": str(session.course_id), "program_id": str(session.program_id), "session_date":
        (session.starts_at + timedelta(days=1)).strftime("%Y-%m-%d"), "start_time": "08:00", "end_time": "09:00",
        "notify_at": "before", "notify_minutes_before": "60", "repeat_weeks": "2"})
    get("sessions with a series", "/sessions")
    client.post("/sessions/new", data={
        "course_id": str(session.course_id), "program_id": str(session.program_id),
        "session_date": (session.starts_at - timedelta(days=3)).strftime("%Y-%m-%d"), "start_time": "08:00",
        "end_time": "09:00", "notify_at": "never"})
    register_only = db.session.scalar(select(AttendanceSession).where(AttendanceSession.register_only))
    get("register-only session", f"/sessions/{register_only.id}")
    get("register-only attendance", f"/sessions/{register_only.id}/attendance")
    series = db.session.scalar(select(AttendanceSession).where(AttendanceSession.series_id.is_not(None)))
    get("scheduled session in a series", f"/sessions/{series.id}")
    get("cancel a series", f"/sessions/{series.id}/cancel?scope=series")
    client.post(f"/sessions/{series.id}/cancel", data={})
    get("cancelled session", f"/sessions/{series.id}")
    get("cancelled link", f"/attendance?token={token}")
    get("attendance", f"/sessions/{session.id}/attendance")
    get("notifications", "/notifications")
    get("notification", f"/notifications/{failed.id}")
    get("notification bounced", f"/notifications/{bounced.id}")
    get("notification bounced at an address since corrected", f"/notifications/{corrected.id}")
    get("forbidden", "/admin/staff")
    auth.logout()

    auth.login("admin@example.edu")
    get("notifications (admin)", "/notifications?status=failed")
    get("attendance with a review list", f"/sessions/{open_session.id}/attendance")
    post("confirm retry", "/notifications/retry", {"notification_ids": [failed.id]})
    get("programs", "/admin/programs")
    post("programs with errors", "/admin/programs", {"program-code": "", "program-name": "", "program-submit": "1"})
    get("courses", "/admin/courses")
    get("staff", "/admin/staff")
    post("staff with errors", "/admin/staff", {"email": "bad", "first_name": "", "last_name": "", "role": "lecturer",
                                               "password": "short"})
    get("import", "/admin/import")
    post("import with problems", "/admin/import",
         {"csv_file": (io.BytesIO(b"student_number,first_name,last_name,email,program_code,stream\nS1,A,B,bad,XX,\n"),
                       "s.csv")}, content_type="multipart/form-data")
    get("queue", "/admin/queue")
    course, program = people["course"], people["course"].program
    get("students", "/admin/students")
    get("students, bad filter", "/admin/students?active=maybe")
    get("students whose address bounces", "/admin/students?email=bouncing")
    get("student edit", f"/admin/students/{students[1].id}/edit")
    post("student edit with errors", f"/admin/students/{students[1].id}/edit",
         {"first_name": "", "last_name": "", "email": "bad", "program_id": program.id, "stream_id": ""})
    post("sync preview", "/admin/import", {"mode": "sync", "deactivate_missing": "y", "csv_file": (io.BytesIO(
        b"student_number,first_name,last_name,email,program_code,stream\nS9,New,One,new1@example.edu,CS,A\n"),
        "s.csv")}, content_type="multipart/form-data")
    get("course edit", f"/admin/courses/{course.id}")
    post("course edit with errors", f"/admin/courses/{course.id}", {"code": "", "name": "", "program_code": "CS"})
    get("program edit", f"/admin/programs/{program.id}/edit")
    get("stream edit", f"/admin/streams/{program.streams[0].id}/edit")
    get("staff password", f"/admin/staff/{people['lecturer'].id}/password")
    get("audit", "/admin/audit")
    get("audit, bad filter", "/admin/audit?date_from=nope")
    get("register", f"/courses/{course.id}/register")
    get("register, bad filter", f"/courses/{course.id}/register?date_from=2026-02-30")
    get("account", "/account")
    post("account with errors", "/account", {"current_password": "wrong", "new_password": "x",
                                             "confirm_password": "y"})
    post("attendance marks with errors", f"/sessions/{session.id}/attendance/marks", {"status": "nope"})

    return pages
