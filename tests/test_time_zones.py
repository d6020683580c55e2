"""Sessions entered in a non-UTC PORTAL_TIMEZONE, on ordinary and daylight-saving change days:
the email, the pages and the token expiry all show the same wall-clock times."""
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AttendanceSession, EmailNotification
from portal.services.jwt_service import JWTTokenService
from tests.conftest import make_students
from tests.smtp_servers import parts


@pytest.mark.parametrize(
    "zone, day, start, end, start_utc, expiry_local",
    [
        ("America/New_York", "2027-01-15", "09:00", "10:30", "2027-01-15 14:00", "2027-01-15 10:00"),
        # Europe/London springs forward at 01:00 UTC: 00:30 is GMT, 03:00 is BST.
        ("Europe/London", "2027-03-28", "00:30", "03:00", "2027-03-28 00:30", "2027-03-28 02:30"),
        # ...and falls back at 01:00 UTC: 00:45 is BST (23:45 UTC the day before).
        ("Europe/London", "2027-10-31", "00:45", "02:30", "2027-10-30 23:45", "2027-10-31 01:45"),
    ],
)
def test_the_same_wall_clock_everywhere(app, client, auth, people, run_worker, smtp_server,
                                        zone, day, start, end, start_utc, expiry_local):
    app.config["PORTAL_TIMEZONE"] = zone
    make_students(people["course"].program, 1)
    auth.login("lecturer@example.edu")
    response = client.post("/sessions/new", data={
        "course_id": people["course"].id, "program_id": people["course"].program_id, "stream_id": "",
        "session_date": day, "start_time": start, "end_time": end})
    assert response.status_code == 302, response.get_data(as_text=True)
    session = db.session.scalar(select(AttendanceSession).order_by(AttendanceSession.id.desc()))
    assert session.starts_at.strftime("%Y-%m-%d %H:%M") == start_utc  # stored in UTC

    run_worker()
    text = parts(smtp_server.handler.received[0].message)["text/plain"]
    assert f"Date: {day}" in text
    assert f"Time: {start} - {end}" in text
    assert f"This link will expire at {expiry_local}." in text

    notification = db.session.scalar(select(EmailNotification).where(EmailNotification.session_id == session.id))
    exp = JWTTokenService.from_config(app.config).decode_token(notification.token)["exp"]
    expiry_utc = datetime.fromtimestamp(exp, timezone.utc)
    assert expiry_utc == notification.token_expires_at
    from zoneinfo import ZoneInfo
    assert expiry_utc.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M") == expiry_local

    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert f"{day}, {start}–{end} ({zone})" in page
    listing = client.get("/sessions").get_data(as_text=True)
    assert f"{day} {start}–{end}" in listing

    student_page = client.get(f"/attendance?token={notification.token}")
    assert student_page.status_code == 403  # the session is in the future
    assert f"Attendance opens at {start}." in student_page.get_data(as_text=True)
    assert re.search(r"Sent \(" + re.escape(zone) + r"\)", client.get("/notifications").get_data(as_text=True))
