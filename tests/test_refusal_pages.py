"""Every refusal a student can meet has a way forward, on a branded page naming the class:
when it opens (and a button for then), Try again, the Can't-scan button, or whom to ask."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AttendanceRecord, AttendanceSession
from portal.sessions.changes import cancel_sessions
from tests.factories import expired_link, link_for, make_session, make_students


@pytest.fixture
def student_link(app, people):
    def make(**fields):
        fields.setdefault("starts_in", timedelta(minutes=-1))
        session = make_session(people["course"], lecturer=people["lecturer"], room="LT 2", **fields)
        profile = make_students(people["course"].program, 1, prefix=f"r{session.id}-")[0]
        return session, profile, link_for(app, session, profile)

    return make


def names_the_class(html: str, session: AttendanceSession) -> bool:
    return ("Data Structures" in html and f"{session.starts_at:%a %-d %b}, {session.starts_at:%H:%M}" in html
            and "LT 2" in html and '<header class="student-brand">' in html)


def records() -> int:
    return db.session.scalar(select(func.count()).select_from(AttendanceRecord))


def test_not_open_yet_says_when_with_a_button_for_then(client, student_link):
    session, profile, token = student_link(starts_in=timedelta(minutes=20))
    response = client.get(f"/attendance?token={token}")
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert names_the_class(html, session)
    form = re.search(r'<form method="get" action="/attendance" id="wait-form" data-seconds-left="(\d+)">', html)
    assert form and 1150 <= int(form.group(1)) <= 1200
    assert f'name="token" value="{token}"' in html and "Confirm my attendance</button>" in html
    assert f"the button below works from {session.starts_at:%H:%M} UTC" in html


def test_an_expired_link_names_the_lecturer_to_ask(client, app, student_link, people):
    session, profile, token = student_link()
    response = client.get(f"/attendance?token={expired_link(app, session, profile)}")
    assert response.status_code == 410
    html = response.get_data(as_text=True)
    assert names_the_class(html, session)
    assert "speak to your lecturer, <strong>Lee Lecturer</strong>" in html
    assert 'href="mailto:lecturer@example.edu"' in html and "they can mark you present by hand" in html


def test_a_cancelled_session_names_the_lecturer(client, student_link, people):
    session, profile, token = student_link()
    cancel_sessions([session], people["lecturer"], notify_students=False)
    response = client.post("/attendance", data={"token": token})
    assert response.status_code == 410
    html = response.get_data(as_text=True)
    assert "This session was cancelled" in html and "Lee Lecturer" in html and names_the_class(html, session)


def test_someone_elses_card_offers_cant_scan_right_there(client, student_link, people):
    session, profile, token = student_link(require_id_scan=True)
    friend = make_students(people["course"].program, 1, prefix="friend")[0]
    response = client.post("/attendance", data={"token": token, "id_scan": friend.card_code})
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "This is not your student card" in html and 'id="refusal"' in html
    assert 'name="without_card" value="1"' in html and "Can't scan? Confirm without my card" in html
    assert records() == 0
    assert client.post("/attendance", data={"token": token, "without_card": "1"}).status_code == 200


def test_a_missing_location_is_the_confirm_page_again(client, student_link):
    session, profile, token = student_link(latitude=-1.28, longitude=36.8)
    response = client.post("/attendance", data={"token": token})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Allow location access" in html and ">Try again</button>" in html and records() == 0


def test_already_recorded_has_nothing_left_to_do(client, student_link):
    session, profile, token = student_link()
    assert client.post("/attendance", data={"token": token}).status_code == 200
    response = client.get(f"/attendance?token={token}")
    assert response.status_code == 409
    assert "nothing more to do" in response.get_data(as_text=True)


def test_an_old_link_after_a_change_points_to_the_newest_email(client, app, student_link, people):
    from portal.sessions import planning
    from portal.sessions.changes import edit_session

    session, profile, token = student_link(starts_in=timedelta(minutes=-1))
    request = planning.SessionRequest(course_id=session.course_id, program_id=session.program_id, stream_id=None,
                                      lecturer_id=session.lecturer_id, starts_at=session.starts_at,
                                      ends_at=session.ends_at + timedelta(minutes=30), room="LT 2")
    edit_session(session, request, by=people["lecturer"])
    response = client.get(f"/attendance?token={token}")
    assert response.status_code == 410
    html = response.get_data(as_text=True)
    assert "Open the link in your most recent email about this class" in html and "Lee Lecturer" in html


def test_a_broken_link_is_branded_and_says_what_to_do(client):
    response = client.get("/attendance?token=garbage")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert '<header class="student-brand">' in html and "most recent email" in html
