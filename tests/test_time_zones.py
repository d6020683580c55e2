"""Sessions entered in a non-UTC PORTAL_TIMEZONE, on ordinary and daylight-saving change days:
the email, the pages and the token expiry all show the same wall-clock times."""
import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AttendanceSession, EmailNotification
from portal.services.jwt_service import JWTTokenService
from tests.factories import make_students, next_clock_change
from tests.smtp_servers import parts


def ordinary_day() -> date:
    """A day two weeks ahead on which New York's clocks do not change."""
    day = date.today() + timedelta(days=14)
    while next_clock_change("America/New_York", "forward", day - timedelta(days=1)) == day or \
            next_clock_change("America/New_York", "back", day - timedelta(days=1)) == day:
        day += timedelta(days=1)
    return day


def cases():
    """(zone, day, start, end, start in UTC, link expiry local): the next clock changes, whatever today is."""
    ordinary = ordinary_day()
    new_york = datetime.combine(ordinary, time(9, 0), ZoneInfo("America/New_York"))
    spring = next_clock_change("Europe/London", "forward")
    autumn = next_clock_change("Europe/London", "back")
    # A link expires at the later of the start + 60 minutes and the end + 15 minutes, counted in UTC.
    return [
        ("America/New_York", ordinary, "09:00", "09:30", new_york.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M"),
         f"{ordinary} 10:00 {new_york.tzname()}"),
        # Europe/London springs forward at 01:00 UTC: 00:30 is GMT, 03:00 is BST (the end + 15 is later).
        ("Europe/London", spring, "00:30", "03:00", f"{spring} 00:30", f"{spring} 03:15 BST"),
        # ...and falls back at 01:00 UTC: 00:45 is BST (23:45 UTC the day before); start + 60 is later.
        ("Europe/London", autumn, "00:45", "00:55", f"{autumn - timedelta(days=1)} 23:45",
         f"{autumn} 01:45 BST"),  # 01:45 happens twice that day; 00:45 UTC is the first, BST
    ]


@pytest.mark.parametrize("zone, day, start, end, start_utc, expiry_local", cases())
def test_the_same_wall_clock_everywhere(app, client, auth, people, run_worker, smtp_server,
                                        zone, day, start, end, start_utc, expiry_local):
    app.config["PORTAL_TIMEZONE"] = zone
    make_students(people["course"].program, 1)
    auth.login("lecturer@example.edu")
    response = client.post("/sessions/new", data={
        "course_id": people["course"].id, "program_id": people["course"].program_id, "stream_id": "",
        "session_date": day.isoformat(), "start_time": start, "end_time": end})
    assert response.status_code == 302, response.get_data(as_text=True)
    session = db.session.scalar(select(AttendanceSession).order_by(AttendanceSession.id.desc()))
    assert session.starts_at.strftime("%Y-%m-%d %H:%M") == start_utc  # stored in UTC

    run_worker()
    text = parts(smtp_server.handler.received[0].message)["text/plain"]
    assert f"Date: {day}" in text
    start_here, end_here = (datetime.combine(day, time.fromisoformat(t), ZoneInfo(zone)) for t in (start, end))
    assert f"Time: {start} - {end} {end_here.tzname()}" in text  # the zone, for students who may be anywhere
    assert f"This link will expire at {expiry_local}." in text, text

    notification = db.session.scalar(select(EmailNotification).where(EmailNotification.session_id == session.id))
    exp = JWTTokenService.from_config(app.config).decode_token(notification.token)["exp"]
    expiry_utc = datetime.fromtimestamp(exp, timezone.utc)
    assert expiry_utc == notification.token_expires_at
    assert expiry_utc.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M") == expiry_local[:16]

    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert f"{day}, {start}–{end} ({zone})" in page
    listing = client.get("/sessions").get_data(as_text=True)
    assert f"{day} {start}–{end}" in listing

    student_page = client.get(f"/attendance?token={notification.token}")
    assert student_page.status_code == 403  # the session is in the future
    assert (f"Data Structures opens for attendance on {start_here:%a %-d %b} at {start} {start_here.tzname()}."
            in student_page.get_data(as_text=True))
    assert re.search(r"Sent \(" + re.escape(zone) + r"\)", client.get("/notifications").get_data(as_text=True))


def post_session(client, people, day, start, end):
    return client.post("/sessions/new", data={
        "course_id": people["course"].id, "program_id": people["course"].program_id, "stream_id": "",
        "session_date": day.isoformat(), "start_time": start, "end_time": end})


@pytest.mark.parametrize("start, end, field", [("01:45", "02:15", "start_time"), ("00:30", "01:30", "end_time")])
def test_a_time_the_clocks_skip_is_refused_on_its_field(app, client, auth, people, start, end, field):
    """London, the day the clocks go forward (01:00 → 02:00): 01:45 never happens."""
    app.config["PORTAL_TIMEZONE"] = "Europe/London"
    spring = next_clock_change("Europe/London", "forward")
    auth.login("lecturer@example.edu")
    before = db.session.scalar(select(func.count()).select_from(AttendanceSession))
    response = post_session(client, people, spring, start, end)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    skipped = start if field == "start_time" else end
    assert re.search(rf'id="{field}-error">{skipped} does not exist on {spring} in Europe/London: the clocks go '
                     r'forward then', html)
    assert db.session.scalar(select(func.count()).select_from(AttendanceSession)) == before


def test_a_time_that_happens_twice_means_the_first_and_shows_its_offset(app, client, auth, people):
    """London, the day the clocks go back (02:00 → 01:00): 01:30 happens first in BST, then in GMT."""
    app.config["PORTAL_TIMEZONE"] = "Europe/London"
    autumn = next_clock_change("Europe/London", "back")
    auth.login("lecturer@example.edu")
    response = post_session(client, people, autumn, "01:30", "02:30")
    assert response.status_code == 302, response.get_data(as_text=True)
    session = db.session.scalar(select(AttendanceSession).order_by(AttendanceSession.id.desc()))
    assert session.starts_at == datetime.combine(autumn, time(0, 30), timezone.utc)  # 01:30 BST
    assert session.ends_at - session.starts_at == timedelta(hours=2)  # 01:30 BST to 02:30 GMT
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert f"{autumn}, 01:30 (UTC+01:00)–02:30 (Europe/London)" in page


def test_start_and_end_are_compared_in_utc(app):
    """01:50 BST and 01:10 GMT: the end is later on the wall clock's second pass, so the session is valid."""
    from portal.sessions.planning import SessionRequest, validate
    zone = ZoneInfo("Europe/London")
    autumn = next_clock_change("Europe/London", "back")
    with app.app_context():
        request = SessionRequest(course_id=1, program_id=1, stream_id=None, lecturer_id=None,
                                 starts_at=datetime.combine(autumn, time(1, 50), zone),
                                 ends_at=datetime.combine(autumn, time(1, 10, fold=1), zone))
        assert "end_time" not in validate(request)
        request.ends_at = request.ends_at.replace(fold=0)  # 01:10 BST: before the start
        assert validate(request)["end_time"] == "The session must end after it starts"


def test_the_cli_refuses_a_skipped_time_with_one_line(app, people):
    app.config["PORTAL_TIMEZONE"] = "Europe/London"
    spring = next_clock_change("Europe/London", "forward")
    result = app.test_cli_runner().invoke(args=["create-session", "--course", people["course"].course_code,
                                                "--date", spring.isoformat(), "--start", "01:15", "--end", "03:00"])
    assert result.exit_code == 1
    assert f"01:15 does not exist on {spring} in Europe/London" in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("zone, direction, clock, skipped, twice", [
    ("Europe/London", "forward", time(1, 30), True, False),
    ("Europe/London", "back", time(1, 30), False, True),
    ("Europe/London", "back", time(2, 30), False, False),
    ("America/New_York", "forward", time(2, 30), True, False),
    ("America/New_York", "back", time(1, 30), False, True),
])
def test_skipped_and_repeated_local_times(zone, direction, clock, skipped, twice):
    from portal.timefmt import ambiguous, nonexistent
    moment = datetime.combine(next_clock_change(zone, direction), clock, ZoneInfo(zone))
    assert (nonexistent(moment), ambiguous(moment)) == (skipped, twice)
