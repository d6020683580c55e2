"""The student's attendance link, through HTTP: every answer, single use, distance, limits."""
import threading
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from sqlalchemy import func, select

from portal.attendance.geo import haversine_m
from portal.extensions import db
from portal.models import AttendanceRecord, EmailNotification
from portal.services.jwt_service import JWTTokenService
from portal.services.notification_generation_service import NotificationGenerationService
from tests.factories import make_course, make_program, make_session, make_students

ROOM = (-1.28333, 36.81667)


def north_of(point, metres):
    """A point `metres` due north (1 degree of latitude ≈ 111,195 m on the mean sphere)."""
    return point[0] + metres / 111_194.93, point[1]


@pytest.fixture
def course(app):
    return make_course(make_program("CS", streams=()))


@pytest.fixture
def link(app, course):
    """Make a session (started a minute ago unless told otherwise) and return a student's token."""

    def make(starts_in=timedelta(minutes=-1), location=None, **fields):
        profile = make_students(course.program, 1)[0]
        session = make_session(course, starts_in=starts_in,
                               **({"latitude": location[0], "longitude": location[1]} if location else {}), **fields)
        service = NotificationGenerationService(JWTTokenService.from_config(app.config))
        if session.starts_at + timedelta(minutes=60) > datetime.now(timezone.utc):
            service.generate_notifications_for_session(session.id)
        token = db.session.scalar(select(EmailNotification.token).where(EmailNotification.session_id == session.id))
        return token, session, profile

    return make


def records() -> int:
    return db.session.scalar(select(func.count()).select_from(AttendanceRecord))


def test_open_shows_the_confirm_page_and_records_nothing(client, link):
    token, session, profile = link()
    response = client.get(f"/attendance?token={token}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Data Structures" in html and f"Hi {profile.user.first_name}," in html
    assert "confirm my attendance" in html
    assert client.head(f"/attendance?token={token}").status_code == 200
    assert client.get(f"/attendance?token={token}").status_code == 200  # a scanner and then the student
    assert records() == 0


def test_confirm_records_once_with_evidence(client, link):
    token, session, profile = link()
    response = client.post("/attendance", data={"token": token}, headers={"User-Agent": "PhoneBrowser/1.0"})
    assert response.status_code == 200
    assert "Attendance recorded" in response.get_data(as_text=True)
    record = db.session.scalar(select(AttendanceRecord))
    assert (record.session_id, record.student_profile_id) == (session.id, profile.id)
    assert record.ip_address == "127.0.0.1" and record.user_agent == "PhoneBrowser/1.0"
    assert record.distance_m is None
    again = client.post("/attendance", data={"token": token})
    assert again.status_code == 409
    assert (f"Attendance already recorded at {record.recorded_at:%H:%M} UTC for Data Structures on "
            f"{session.starts_at:%a %-d %b}.") in again.get_data(as_text=True)
    assert client.get(f"/attendance?token={token}").status_code == 409
    assert records() == 1


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.xx"])
def test_malformed_links_are_400(client, link, token):
    link()
    for response in (client.get(f"/attendance?token={token}"), client.post("/attendance", data={"token": token})):
        assert response.status_code == 400
        assert "This link is not valid" in response.get_data(as_text=True)
    assert records() == 0


def test_a_tampered_link_is_400(client, app, link):
    token, session, profile = link()
    forged = jwt.encode({"student_profile_id": profile.id + 1, "session_id": session.id, "iat": 1,
                         "exp": int(datetime.now(timezone.utc).timestamp()) + 600}, "not-the-key" * 4, "HS256")
    assert client.get(f"/attendance?token={forged}").status_code == 400
    header, payload, signature = token.split(".")
    # Change a character in the middle: the last one carries padding bits, so a new last
    # character can decode to the very same signature (CI once drew a signature ending "AA").
    middle = len(signature) // 2
    tampered = signature[:middle] + ("B" if signature[middle] == "A" else "A") + signature[middle + 1:]
    assert client.post("/attendance", data={"token": f"{header}.{payload}.{tampered}"}).status_code == 400


def test_an_expired_link_says_when_it_expired(client, app, link):
    token, session, profile = link()
    expired_at = datetime.now(timezone.utc) - timedelta(minutes=5)
    expired = JWTTokenService(app.config["JWT_SECRET_KEY"], clock=lambda: expired_at - timedelta(hours=1)
                              ).generate_token(profile.id, session.id, expired_at)
    for response in (client.get(f"/attendance?token={expired}"), client.post("/attendance", data={"token": expired})):
        assert response.status_code == 410
        assert (f"This link for Data Structures on {session.starts_at:%a %-d %b} expired at {expired_at:%H:%M} UTC."
                in response.get_data(as_text=True))
    assert records() == 0


def test_before_the_session_starts_is_403(client, link):
    token, session, profile = link(starts_in=timedelta(minutes=20))
    for response in (client.get(f"/attendance?token={token}"), client.post("/attendance", data={"token": token})):
        assert response.status_code == 403
        assert (f"Data Structures opens for attendance on {session.starts_at:%a %-d %b} at {session.starts_at:%H:%M} UTC."
                in response.get_data(as_text=True))
    assert records() == 0


def test_a_deleted_session_or_student_is_404_and_an_inactive_student_400(client, link):
    token, session, profile = link()
    profile.is_active = False
    db.session.commit()
    response = client.get(f"/attendance?token={token}")
    assert response.status_code == 400 and "not active" in response.get_data(as_text=True)

    token2, session2, profile2 = link()
    db.session.delete(profile2)
    db.session.commit()
    assert client.get(f"/attendance?token={token2}").status_code == 404

    token3, session3, _ = link()
    db.session.delete(session3)
    db.session.commit()
    response = client.post("/attendance", data={"token": token3})
    assert response.status_code == 404 and "no longer exists" in response.get_data(as_text=True)
    assert records() == 0


def test_post_without_csrf_records_nothing(client, app, link):
    token, *_ = link()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/attendance", data={"token": token})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    assert "Open the link from your email again" in response.get_data(as_text=True)
    assert records() == 0


def test_confirm_with_the_page_token_works_with_csrf_on(client, app, link):
    token, *_ = link()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        html = client.get(f"/attendance?token={token}").get_data(as_text=True)
        csrf = html.split('name="csrf_token" value="')[1].split('"')[0]
        assert client.post("/attendance", data={"token": token, "csrf_token": csrf}).status_code == 200
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert records() == 1


def test_two_simultaneous_confirmations_make_exactly_one_record(app, link):
    token, *_ = link()
    barrier, statuses = threading.Barrier(2), []

    def confirm():
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post("/attendance", data={"token": token}).status_code)

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409]
    assert records() == 1


@pytest.mark.parametrize("metres, status", [(0, 200), (12.5, 200), (29.9, 200), (30.1, 403), (200, 403)])
def test_distance_from_the_session_location(client, link, metres, status):
    token, session, _ = link(location=ROOM)
    lat, lon = north_of(ROOM, metres)
    assert abs(haversine_m(lat, lon, *ROOM) - metres) < 0.05
    response = client.post("/attendance", data={"token": token, "latitude": lat, "longitude": lon})
    assert response.status_code == status
    if status == 403:
        assert f"You are about {round(metres)} m from the session location" in response.get_data(as_text=True)
        assert records() == 0
    else:
        record = db.session.scalar(select(AttendanceRecord))
        assert record.distance_m == pytest.approx(metres, abs=0.05)
        assert (record.latitude, record.longitude) == (lat, lon)


def test_no_location_on_the_session_means_no_check(client, link):
    token, *_ = link()
    assert client.post("/attendance", data={"token": token, "latitude": "10", "longitude": "10"}).status_code == 200


@pytest.mark.parametrize("data", [{}, {"latitude": "1.0"}, {"latitude": "", "longitude": ""},
                                  {"latitude": "north", "longitude": "east"}, {"latitude": "95", "longitude": "1"}])
def test_missing_or_bad_coordinates_when_required(client, link, data):
    token, *_ = link(location=ROOM)
    response = client.post("/attendance", data={"token": token, **data})
    assert response.status_code == 400
    assert "location" in response.get_data(as_text=True)
    assert records() == 0


def test_the_confirm_page_asks_for_location_only_when_needed(client, link):
    token, *_ = link(location=ROOM)
    assert 'data-needs-location="true"' in client.get(f"/attendance?token={token}").get_data(as_text=True)
    token2, *_ = link()
    assert 'data-needs-location="false"' in client.get(f"/attendance?token={token2}").get_data(as_text=True)


def test_rate_limit_answers_429_kindly(client, app, link):
    token, *_ = link()
    app.config["RATELIMIT_ENABLED"] = True
    statuses = [client.get(f"/attendance?token={token}").status_code for _ in range(12)]
    assert statuses[:10] == [200] * 10
    assert statuses[10:] == [429, 429]
    response = client.get(f"/attendance?token={token}")
    assert "Too many attempts" in response.get_data(as_text=True)
    assert client.get("/attendance?token=another").status_code == 400  # another link is not held back


def test_student_pages_are_not_framed_and_do_not_leak_the_link(client, link):
    token, *_ = link()
    headers = client.get(f"/attendance?token={token}").headers
    assert headers["Referrer-Policy"] == "same-origin" and headers["X-Frame-Options"] == "DENY"
