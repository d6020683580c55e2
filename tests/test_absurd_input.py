"""Absurd numbers and parameters get a clear 4xx (or a clamped page), never a 500 (issue 10, item 9)."""
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AttendanceRecord, AttendanceSession
from portal.services.jwt_service import ALGORITHM
from tests.factories import link_for, make_notification, make_session, make_students

HUGE = str(10**23)
VERY_HUGE = str(10**30)


@pytest.fixture
def signed_in(client, auth, people, app):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a bug must show as the 500 page a user would see
    auth.login("admin@example.edu")
    return client


@pytest.mark.parametrize("url", [
    "/sessions?page=" + str(10**20),
    "/sessions?page=-5",
    "/notifications?page=" + str(10**20),
    "/notifications?session_id=" + VERY_HUGE,
    "/notifications?session_id=-1",
    "/notifications?session_id=" + VERY_HUGE + "&page=" + str(10**20),
])
def test_absurd_list_parameters_are_clamped_or_ignored(signed_in, url):
    response = signed_in.get(url)
    assert response.status_code == 200, url
    assert "Something went wrong" not in response.get_data(as_text=True)


def test_a_page_past_the_end_shows_an_empty_page_not_an_error(signed_in, people):
    html = signed_in.get("/sessions?page=" + str(10**20)).get_data(as_text=True)
    assert "Something went wrong" not in html


@pytest.mark.parametrize("path", [
    f"/sessions/{HUGE}", f"/sessions/{HUGE}/progress", f"/sessions/{HUGE}/attendance",
    f"/sessions/{HUGE}/attendance.csv", f"/notifications/{HUGE}", "/sessions/0",
    f"/sessions/{2**31}", f"/notifications/{2**31}",  # past PostgreSQL's INTEGER
])
def test_out_of_range_ids_in_paths_are_404(signed_in, path):
    assert signed_in.get(path).status_code == 404


def test_the_forms_preview_of_an_id_past_the_databases_integer_is_nobody(signed_in):
    preview = signed_in.get(f"/sessions/audience?program_id={2**31}&session_date=2030-01-07&start_time=08:00")
    assert preview.get_json() == {"audience": None, "timing": None}


def test_a_huge_session_page_number_on_a_session_page_is_clamped(signed_in, people):
    session = people["own_session"]
    assert signed_in.get(f"/sessions/{session.id}?page={10**20}").status_code == 200


def test_deactivating_an_out_of_range_staff_id_is_404(signed_in):
    assert signed_in.post(f"/admin/staff/{HUGE}/active", data={"active": "false"}).status_code == 404


def test_retrying_out_of_range_notification_ids_is_400(signed_in):
    response = signed_in.post("/notifications/retry", data={"notification_ids": [VERY_HUGE], "confirm": "yes"})
    assert response.status_code == 400
    assert "whole numbers" in response.get_data(as_text=True)


@pytest.fixture
def many_pages(people):
    """Enough sessions, and emails of one session, for the lists to show page links (built by url_with)."""
    course, lecturer = people["course"], people["lecturer"]
    for n in range(26):
        make_session(course, lecturer=lecturer, starts_in=timedelta(days=n + 1))
    session = people["own_session"]
    for student in make_students(course.program, 51):
        make_notification(session, student)
    return session


@pytest.mark.parametrize("query", ["session_id={id}", "_method=POST", "_external=1", "_anchor=x", "_scheme=ftp",
                                   "endpoint=x", "values=1", "notification_id=3"])
def test_query_parameters_are_never_passed_to_url_for(signed_in, many_pages, query):
    """Templates build paging links from the current URL; its query must stay a query."""
    query = query.format(id=many_pages.id)  # a real filter on /notifications, a clash with the route on /sessions/<id>
    for url in (f"/sessions/{many_pages.id}?{query}", f"/notifications?{query}", f"/sessions?{query}"):
        response = signed_in.get(url)
        assert response.status_code == 200, url
        assert 'class="page-link" href="/' in response.get_data(as_text=True), url


def test_url_with_keeps_the_path_and_changes_only_the_query(app):
    from portal.template_helpers import url_with
    with app.test_request_context("/sessions/5?session_id=7&_external=1&page=2"):
        url = url_with(page=3)
    assert url.startswith("/sessions/5?")
    assert "page=3" in url and "session_id=7" in url and "_external=1" in url and "http" not in url


# --- the session form -------------------------------------------------------


def new_session_form(people, **changes) -> dict:
    course = people["course"]
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%d")
    form = {"course_id": str(course.id), "program_id": str(course.program_id), "stream_id": "",
            "session_date": tomorrow, "start_time": "08:00", "end_time": "10:00", "latitude": "", "longitude": ""}
    form.update(changes)
    return form


def sessions() -> int:
    return db.session.scalar(select(func.count()).select_from(AttendanceSession))


@pytest.mark.parametrize("changes, field", [
    ({"latitude": "sNaN", "longitude": "1"}, "latitude"),
    ({"latitude": "NaN", "longitude": "1"}, "latitude"),
    ({"latitude": "inf", "longitude": "1"}, "latitude"),
    ({"latitude": "1", "longitude": "-Infinity"}, "longitude"),
    ({"session_date": "9999-12-31", "start_time": "23:30", "end_time": "23:45"}, "session_date"),
    ({"session_date": "0001-01-01", "start_time": "00:10", "end_time": "00:20"}, "session_date"),
    ({"course_id": VERY_HUGE}, "course_id"),
    ({"stream_id": VERY_HUGE}, "stream_id"),
])
def test_absurd_session_fields_get_a_message_on_the_field(signed_in, people, changes, field):
    before = sessions()
    response = signed_in.post("/sessions/new", data=new_session_form(people, **changes))
    assert response.status_code == 400, changes
    assert f'id="{field}-error"' in response.get_data(as_text=True), changes
    assert sessions() == before


def test_a_session_far_in_the_future_is_refused(signed_in, people):
    far = (datetime.now(timezone.utc) + timedelta(days=800)).strftime("%Y-%m-%d")
    response = signed_in.post("/sessions/new", data=new_session_form(people, session_date=far))
    assert response.status_code == 400
    assert "within" in response.get_data(as_text=True)


def test_the_cli_refuses_an_absurd_date_with_one_line(app, people):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-session", "--course", people["course"].course_code, "--date", "9999-12-31",
                                 "--start", "23:30", "--end", "23:45"])
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "date" in result.output.lower()


# --- the student's link ---------------------------------------------------------


@pytest.fixture
def open_session(app, people):
    session = make_session(people["course"], starts_in=timedelta(minutes=-1))  # no location
    profile = make_students(people["course"].program, 1)[0]
    return session, profile


def sign(app, **claims) -> str:
    now = int(datetime.now(timezone.utc).timestamp())
    payload = {"iat": now, "exp": now + 3600, **claims}
    return jwt.encode(payload, app.config["JWT_SECRET_KEY"], algorithm=ALGORITHM)


@pytest.mark.parametrize("claims", [
    {"session_id": 2**64, "student_profile_id": 1},
    {"session_id": 1, "student_profile_id": 10**30},
    {"session_id": -1, "student_profile_id": 1},
])
def test_a_correctly_signed_token_with_an_out_of_range_id_is_400(app, client, open_session, claims):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    token = sign(app, **claims)
    assert client.get(f"/attendance?token={token}").status_code == 400
    assert client.post("/attendance", data={"token": token}).status_code == 400


@pytest.mark.parametrize("latitude, longitude", [("sNaN", "1"), ("nan", "1"), ("inf", "1"), ("1", "-inf"),
                                                 ("1e400", "1"), ("91", "0"), ("0", "181")])
def test_a_non_finite_or_out_of_range_location_is_refused_even_without_a_session_location(
        app, client, open_session, latitude, longitude):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    session, profile = open_session
    token = link_for(app, session, profile)
    response = client.post("/attendance", data={"token": token, "latitude": latitude, "longitude": longitude})
    assert response.status_code == 400
    assert "location could not be read" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AttendanceRecord)) == 0


@pytest.mark.parametrize("zone", ["UTC", "Asia/Tokyo", "America/Los_Angeles"])
@pytest.mark.parametrize("query", ["date_to=9999-12-31", "date_from=0001-01-01", "date_from=1899-12-31"])
def test_dates_the_calendar_cannot_hold_are_a_400_on_every_filter(signed_in, people, app, zone, query):
    """The day after 9999-12-31, or year 1 east of UTC, cannot be a moment; it was a 500."""
    app.config["PORTAL_TIMEZONE"] = zone
    course = people["course"].id
    for path in (f"/courses/{course}/register", f"/courses/{course}/register.csv", "/admin/audit"):
        response = signed_in.get(f"{path}?{query}")
        assert response.status_code == 400, (path, response.status_code)
        assert "Choose a day from 01 January 1900 to 31 December 9998." in response.get_data(as_text=True), path
    assert signed_in.get(f"/courses/{course}/register?date_from=1900-01-01&date_to=9998-12-31").status_code == 200


@pytest.mark.parametrize("method, path, data", [
    ("get", "/admin/students?q=Am%00a", None),
    ("post", "/admin/import/confirm", {"token": "abc\x00def", "action": "apply", "fingerprint": "x"}),
    ("post", "/login", {"email": "admin@example.edu\x00", "password": "x"}),
])
def test_a_nul_character_is_a_400_before_any_query(signed_in, method, path, data):
    """PostgreSQL refuses text holding NUL (it was a 500 there)."""
    response = getattr(signed_in, method)(path, data=data)
    assert response.status_code == 400 and "NUL character" in response.get_data(as_text=True)
