"""Links that last the class: they expire at the later of the start + TOKEN_EXPIRY_MINUTES and
the end + TOKEN_GRACE_MINUTES, open ATTENDANCE_OPENS_MINUTES_BEFORE the start, and an edit
that moves the end re-issues the links of the students who have not confirmed."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from portal import link_window
from portal.extensions import db
from portal.models import AttendanceRecord, EmailKind, EmailNotification, NotificationStatus
from portal.sessions import planning
from portal.sessions.changes import edit_session
from portal.timefmt import local_date, zoned_time
from tests.factories import link_for, make_session, make_students
from tests.smtp_servers import parts


def test_the_rule():
    start = datetime(2026, 11, 26, 16, 30, tzinfo=timezone.utc)
    assert link_window.expiry_rule(start, start + timedelta(minutes=90), 60, 15) == start + timedelta(minutes=105)
    assert link_window.expiry_rule(start, start + timedelta(minutes=30), 60, 15) == start + timedelta(minutes=60)
    assert link_window.expiry_rule(start, start + timedelta(hours=2), 60, 0) == start + timedelta(hours=2)


def test_a_three_hour_sessions_link_works_two_hours_in(client, app, people):
    session = make_session(people["course"], starts_in=-timedelta(hours=2), length=timedelta(hours=3))
    profile = make_students(people["course"].program, 1)[0]
    token = link_for(app, session, profile)
    expires = db.session.scalar(select(EmailNotification.token_expires_at))
    assert expires == session.ends_at + timedelta(minutes=15)
    assert client.get(f"/attendance?token={token}").status_code == 200
    assert client.post("/attendance", data={"token": token}).status_code == 200


def test_confirmation_opens_the_set_minutes_before_the_start(client, app, people):
    app.config["ATTENDANCE_OPENS_MINUTES_BEFORE"] = 10
    soon = make_session(people["course"], starts_in=timedelta(minutes=5))
    later = make_session(people["course"], starts_in=timedelta(minutes=30))
    student = make_students(people["course"].program, 1)[0]
    assert client.post("/attendance", data={"token": link_for(app, soon, student)}).status_code == 200
    response = client.get(f"/attendance?token={link_for(app, later, student)}")
    assert response.status_code == 403
    opens = later.starts_at - timedelta(minutes=10)
    assert f"opens for attendance on {opens:%a %-d %b} at {opens:%H:%M} UTC" in response.get_data(as_text=True)


def test_extending_the_end_reissues_links_only_to_students_who_have_not_confirmed(client, app, people):
    session = make_session(people["course"], starts_in=-timedelta(minutes=30), length=timedelta(hours=1),
                           lecturer=people["lecturer"])
    here, missing = make_students(people["course"].program, 2)
    token = link_for(app, session, here)
    link_for(app, session, missing)
    db.session.execute(EmailNotification.__table__.update().values(status=NotificationStatus.SENT))
    db.session.commit()
    assert client.post("/attendance", data={"token": token}).status_code == 200
    before = {row.student_profile_id: (row.token, row.token_expires_at) for row in db.session.scalars(
        select(EmailNotification))}

    longer = planning.SessionRequest(
        course_id=session.course_id, program_id=session.program_id, stream_id=None, lecturer_id=session.lecturer_id,
        starts_at=session.starts_at, ends_at=session.ends_at + timedelta(hours=1))
    summary = edit_session(session, longer, by=people["lecturer"])
    assert summary.changed == ["ends_at"] and summary.reissued == 1
    db.session.expire_all()
    rows = {row.student_profile_id: row for row in db.session.scalars(select(EmailNotification))}
    assert (rows[here.id].token, rows[here.id].token_expires_at) == before[here.id]  # never emailed again
    assert rows[here.id].status == NotificationStatus.SENT
    assert rows[missing.id].token != before[missing.id][0]
    assert rows[missing.id].token_expires_at == longer.ends_at + timedelta(minutes=15)
    assert (rows[missing.id].status, rows[missing.id].kind) == (NotificationStatus.PENDING, EmailKind.CHANGED)
    assert db.session.scalar(select(AttendanceRecord.student_profile_id)) == here.id


def test_the_email_says_when_the_link_opens_and_stops_working(app, people, smtp_server, run_worker):
    app.config["ATTENDANCE_OPENS_MINUTES_BEFORE"] = 5
    from portal.delivery import queueing

    session = make_session(people["course"], starts_in=timedelta(hours=2), length=timedelta(hours=2))
    profile = make_students(people["course"].program, 1)[0]
    queueing.enqueue_generation(session.id)
    run_worker()
    message = next(r.message for r in smtp_server.handler.received if r.recipient == profile.user.email)
    opens, expires = session.starts_at - timedelta(minutes=5), session.ends_at + timedelta(minutes=15)
    for text in parts(message).values():
        text = " ".join(text.replace("<strong>", "").replace("</strong>", "").split())
        assert f"This link will expire at {local_date(expires)} {zoned_time(expires)}." in text
        assert f"You can use it from {local_date(opens)} {zoned_time(opens)} until then." in text
