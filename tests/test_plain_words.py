"""Pages speak the staff's language: no internal ids or queue jargon, counts that read as
sentences, and a cancelled session that says so instead of asking for reviews."""
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from portal.extensions import db
from portal.models import AttendanceRecord, CardCheck
from tests.factories import add_notifications, make_session, make_students


def test_a_cancelled_sessions_attendance_page_says_so_and_asks_for_nothing(client, auth, people):
    session = make_session(people["course"], starts_in=-timedelta(minutes=5), lecturer=people["lecturer"])
    students = make_students(people["course"].program, 3)
    add_notifications(session, students, status="sent", error=None)
    db.session.add(AttendanceRecord(session_id=session.id, student_profile_id=students[0].id,
                                    recorded_at=datetime.now(timezone.utc), card_check=CardCheck.NOT_SCANNED))
    session.cancelled_at, session.cancelled_by_id = datetime.now(timezone.utc), people["lecturer"].id
    db.session.commit()
    auth.login("lecturer@example.edu")
    html = client.get(f"/sessions/{session.id}/attendance").get_data(as_text=True)
    assert "This session was cancelled" in html and "what was recorded before it was cancelled" in html
    assert "(1 confirmation)" in html
    assert "For review" not in html and "awaiting review" not in html and 'id="status-summary"' not in html
    assert "1 of 3 confirmed" not in html
    record_id = db.session.scalar(select(AttendanceRecord.id))
    response = client.post(f"/sessions/{session.id}/attendance/{record_id}/review", data={"decision": "accepted"})
    assert response.status_code == 409 and db.session.scalar(select(AttendanceRecord.review)) is None


def test_cancelling_a_session_nobody_was_emailed_about_says_it_in_words(client, auth, people):
    session = people["own_session"]
    auth.login("lecturer@example.edu")
    response = client.post(f"/sessions/{session.id}/cancel", data={"notify_students": "y"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Session cancelled. Nobody had been emailed yet" in html and "0 students" not in html


def test_emails_name_their_session_by_course_and_time_not_by_id(client, auth, people):
    student = make_students(people["course"].program, 1)[0]
    [email_id] = add_notifications(people["own_session"], [student], status="failed")
    auth.login("lecturer@example.edu")
    for path in ("/notifications", f"/notifications/{email_id}"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r">#\d+", html), path
        assert "CS201, " in html or "CS201 · " in html, path
