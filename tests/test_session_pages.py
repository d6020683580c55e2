"""The new-session form and the session pages."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AttendanceSession, EmailNotification
from tests.factories import make_program, make_students, tomorrow
from tests.support import error_next_to, queue_down

A_MONTH_AGO = (date.today() - timedelta(days=30)).isoformat()  # links long expired, not a typo


@pytest.fixture
def form(people) -> dict:
    course = people["course"]
    return {
        "course_id": str(course.id), "program_id": str(course.program_id), "stream_id": "",
        "session_date": tomorrow(), "start_time": "08:00", "end_time": "10:00", "latitude": "", "longitude": "",
    }


def session_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AttendanceSession))


def test_get_offers_sensible_defaults(client, auth, people):
    auth.login("lecturer@example.edu")
    html = client.get("/sessions/new").get_data(as_text=True)
    assert 'name="session_date"' in html and 'type="date"' in html
    assert re.search(r'name="start_time"[^>]*value="\d\d:\d\d"', html)
    assert "Whole program" in html and 'data-program="' in html


def test_creating_a_session_redirects_to_it_and_says_how_many_are_notified(client, auth, people, form, app):
    make_students(people["course"].program, 4)
    auth.login("lecturer@example.edu")
    before = session_count()
    response = client.post("/sessions/new", data=form)
    assert response.status_code == 302
    session = db.session.scalar(select(AttendanceSession).order_by(AttendanceSession.id.desc()))
    assert response.location == f"/sessions/{session.id}"
    assert session_count() == before + 1
    assert session.lecturer_id == people["lecturer"].id
    assert session.starts_at.strftime("%H:%M") == "08:00"
    assert f"generate-session-{session.id}" in app.extensions["rq_queues"]["later"].job_ids  # tomorrow: not urgent
    page = client.get(response.location).get_data(as_text=True)
    assert "Notifying 4 students." in page


def test_the_radius_is_saved_and_defaults_to_the_setting(client, auth, app, people, form):
    app.config["ATTENDANCE_RADIUS_METRES"] = 45
    auth.login("lecturer@example.edu")
    page = client.get("/sessions/new").get_data(as_text=True)
    assert re.search(r'name="radius_m"[^>]*value="45"', page) and "flagged for you to accept or reject" in page
    located = {**form, "latitude": "-1.28333", "longitude": "36.81667"}
    assert client.post("/sessions/new", data={**located, "radius_m": "80"}).status_code == 302
    assert client.post("/sessions/new", data=located).status_code == 302  # a tool that leaves it out: the setting
    radii = db.session.scalars(select(AttendanceSession.radius_m).order_by(AttendanceSession.id)).all()
    assert radii[-2:] == [80, 45]


def test_stream_and_location_are_saved(client, auth, people, form):
    stream = people["course"].program.streams[1]
    auth.login("lecturer@example.edu")
    response = client.post("/sessions/new", data={**form, "stream_id": str(stream.id),
                                                 "latitude": "-1.2921", "longitude": "36.8219"})
    assert response.status_code == 302
    session = db.session.scalar(select(AttendanceSession).order_by(AttendanceSession.id.desc()))
    assert session.stream_id == stream.id
    assert (session.latitude, session.longitude, session.radius_m) == (-1.2921, 36.8219, 30)


def test_queue_down_still_saves_and_says_so(client, auth, app, people, form):
    auth.login("lecturer@example.edu")
    with queue_down(app):
        response = client.post("/sessions/new", data=form, follow_redirects=True)
    assert response.status_code == 200
    assert "emails will go out automatically as soon as it is back" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"end_time": "07:00"}, "end_time", "must end after it starts"),
        ({"end_time": "08:00"}, "end_time", "must end after it starts"),
        ({"course_id": "99999"}, "course_id", "Unknown course"),
        ({"course_id": "abc"}, "course_id", ""),
        ({"program_id": "99999"}, "program_id", "Not a valid choice"),
        ({"stream_id": "99999"}, "stream_id", "Unknown stream"),
        ({"session_date": A_MONTH_AGO}, "start_time", "would already have expired"),
        ({"session_date": "25/12/2030"}, "session_date", "Enter a date"),
        ({"session_date": ""}, "session_date", "Enter a date"),
        ({"start_time": "8am"}, "start_time", "Enter a time"),
        ({"end_time": "25:99"}, "end_time", "Enter a time"),
        ({"latitude": "91", "longitude": "10"}, "latitude", "between -90 and 90"),
        ({"latitude": "north", "longitude": "10"}, "latitude", "Not a valid decimal"),
        ({"latitude": "1.5"}, "longitude", "both latitude and longitude"),
        ({"room": "LT 2\nBcc: x@evil.example"}, "room", "must not contain control characters"),
        ({"room": "L" * 101}, "room", "at most 100 characters"),
        ({"latitude": "1", "longitude": "2", "radius_m": "5"}, "radius_m", "from 10 to 1000 metres"),
        ({"latitude": "1", "longitude": "2", "radius_m": "1001"}, "radius_m", "from 10 to 1000 metres"),
        ({"latitude": "1", "longitude": "2", "radius_m": "wide"}, "radius_m", "Not a valid integer"),
    ],
)
def test_bad_input_is_shown_next_to_its_field_and_nothing_is_saved(client, auth, people, form, changes, field,
                                                                   message):
    auth.login("lecturer@example.edu")
    before = session_count()
    response = client.post("/sessions/new", data={**form, **changes})
    assert response.status_code == 400
    assert message in error_next_to(response.get_data(as_text=True), field)
    assert session_count() == before


def test_a_stream_of_another_program_is_refused(client, auth, people, form):
    other_program = make_program("BIO", streams=("X",))
    auth.login("lecturer@example.edu")
    response = client.post("/sessions/new", data={**form, "stream_id": str(other_program.streams[0].id)})
    assert response.status_code == 400
    assert "does not belong to the chosen program" in error_next_to(response.get_data(as_text=True), "stream_id")


def test_the_room_reaches_the_email_and_the_students_page(client, auth, app, people, run_worker, form,
                                                          smtp_server):
    from tests.smtp_servers import parts

    make_students(people["course"].program, 1)
    auth.login("lecturer@example.edu")
    location = client.post("/sessions/new", data={**form, "room": "  LT 2, Science Block "}).location
    session = db.session.scalar(select(AttendanceSession).order_by(AttendanceSession.id.desc()))
    assert session.room == "LT 2, Science Block"
    assert "LT 2, Science Block" in client.get(location).get_data(as_text=True)
    run_worker()
    message = smtp_server.handler.received[0].message
    assert "Room: LT 2, Science Block" in parts(message)["text/plain"]
    assert "LT 2, Science Block" in parts(message)["text/html"]
    token = db.session.scalar(select(EmailNotification.token).where(EmailNotification.session_id == session.id))
    app.config["PORTAL_TIMEZONE"] = "Africa/Nairobi"
    page = client.get(f"/attendance?token={token}").get_data(as_text=True)
    assert "opens for attendance on" in page and " EAT." in page  # before the start: the zone is named


def test_session_page_shows_counts_and_its_notifications(client, auth, app, people, run_worker, form):
    make_students(people["course"].program, 3)
    auth.login("lecturer@example.edu")
    location = client.post("/sessions/new", data=form).location
    run_worker()
    html = client.get(location).get_data(as_text=True)
    assert '<span data-count="sent">3</span>' in html
    assert 'data-finished="true"' in html
    assert html.count('data-status="sent"') == 3
    progress = client.get(location + "/progress").get_json()
    assert progress["percent"] == 100 and progress["finished"] is True and progress["counts"]["sent"] == 3


@pytest.mark.parametrize("action, data", [
    ("edit", {"room": "LT 9"}),
    ("send-now", {}),
    ("attendance/marks", {"student_id": "1", "status": "present"}),
])
def test_a_cancelled_session_is_a_409_whatever_is_asked_of_it(client, auth, people, action, data):
    """One answer for "this session was cancelled" (it used to be a 409 from the page and a 400
    from the service)."""
    from portal.sessions.changes import cancel_sessions

    session = people["own_session"]
    cancel_sessions([session], people["lecturer"], notify_students=False)
    auth.login("lecturer@example.edu")
    response = client.post(f"/sessions/{session.id}/{action}", data=data)
    assert response.status_code == 409
    assert "was cancelled" in response.get_data(as_text=True)
    assert db.session.get(AttendanceSession, session.id).room is None


def test_send_now_on_a_session_sent_at_once_is_a_409(client, auth, people):
    auth.login("lecturer@example.edu")
    response = client.post(f"/sessions/{people['own_session'].id}/send-now")
    assert response.status_code == 409 and "not waiting for a sending time" in response.get_data(as_text=True)


def test_an_edit_made_on_a_stale_form_is_a_409_and_changes_nothing(client, auth, people, app):
    """Two people open the edit form; the first saves; the second's save is refused with the
    session as it is now, not applied over the first."""
    import re
    from datetime import datetime, time, timezone

    session = people["own_session"]
    session.starts_at = datetime.combine(date.today() + timedelta(days=1), time(10), timezone.utc)
    session.ends_at = session.starts_at + timedelta(hours=1)  # not across midnight, whenever the test runs
    db.session.commit()
    auth.login("lecturer@example.edu")
    page = client.get(f"/sessions/{session.id}/edit").get_data(as_text=True)
    seen = re.search(r'name="seen" type="hidden" value="([0-9a-f]+)"', page).group(1)
    starts = session.starts_at
    form = {"course_id": str(session.course_id), "program_id": str(session.program_id), "stream_id": "",
            "session_date": f"{starts:%Y-%m-%d}", "start_time": f"{starts:%H:%M}",
            "end_time": f"{session.ends_at:%H:%M}", "notify_at": "now", "seen": seen}
    first = client.post(f"/sessions/{session.id}/edit", data={**form, "room": "LT 1"})
    assert first.status_code == 303
    second = client.post(f"/sessions/{session.id}/edit", data={**form, "room": "LT 2"})  # the same, stale, form
    html = second.get_data(as_text=True)
    assert second.status_code == 409 and "was changed while you were editing it" in html
    assert 'value="LT 1"' in html  # the form now shows the session as it is
    db.session.expire_all()
    assert db.session.get(AttendanceSession, session.id).room == "LT 1"
