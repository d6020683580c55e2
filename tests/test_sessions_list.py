"""The sessions list: filters by course, dates and state, pages, and each session's list size
and attendance figure."""
from datetime import datetime, timedelta, timezone

import pytest

from portal.extensions import db
from portal.models import AttendanceMark, AttendanceRecord
from tests.factories import add_notifications, assign, make_course, make_session, make_students


@pytest.fixture
def week(app, people):
    """Three CS201 sessions of the lecturer (two days ago, tomorrow, and a cancelled one) and one of CS301."""
    lecturer = people["lecturer"]
    algorithms = make_course(people["course"].program, code="CS301", name="Algorithms")
    assign(algorithms, lecturer)
    past = make_session(people["course"], starts_in=-timedelta(days=2), lecturer=lecturer, room="Past room")
    ahead = make_session(people["course"], starts_in=timedelta(days=1), lecturer=lecturer, room="Ahead room")
    gone = make_session(people["course"], starts_in=timedelta(days=3), lecturer=lecturer, room="Gone room",
                        cancelled_at=datetime.now(timezone.utc))
    other = make_session(algorithms, starts_in=timedelta(days=1), lecturer=lecturer, room="Algo room")
    students = make_students(people["course"].program, 4)
    add_notifications(past, students, status="sent", error=None)
    add_notifications(ahead, students[:3], status="sent", error=None)
    db.session.add(AttendanceRecord(session_id=past.id, student_profile_id=students[0].id,
                                    recorded_at=past.starts_at + timedelta(minutes=2)))
    db.session.add(AttendanceMark(session_id=past.id, student_profile_id=students[1].id, status="late",
                                  marked_by_id=lecturer.id, marked_at=datetime.now(timezone.utc)))
    db.session.commit()
    return {"past": past, "ahead": ahead, "gone": gone, "other": other, "algorithms": algorithms}


def rooms(html: str) -> set[str]:
    return {room for room in ("Past room", "Ahead room", "Gone room", "Algo room") if room in html}


def test_each_session_says_how_many_came(client, auth, week):
    auth.login("lecturer@example.edu")
    html = client.get("/sessions").get_data(as_text=True)
    assert "2 of 4 present" in html  # a confirmation and a late mark; the other two are absent
    assert "3 students" in html  # tomorrow's: nobody has a status yet


@pytest.mark.parametrize("query, expected", [
    ("", {"Past room", "Ahead room", "Gone room", "Algo room"}),
    ("state=upcoming", {"Ahead room", "Algo room"}),
    ("state=past", {"Past room"}),
    ("state=cancelled", {"Gone room"}),
    ("course_id={algorithms}", {"Algo room"}),
    ("from={tomorrow}&to={tomorrow}", {"Ahead room", "Algo room"}),
    ("to={yesterday}", {"Past room"}),
])
def test_the_filters(client, auth, week, query, expected):
    today = datetime.now(timezone.utc).date()
    query = query.format(algorithms=week["algorithms"].id, tomorrow=today + timedelta(days=1),
                         yesterday=today - timedelta(days=1))
    auth.login("lecturer@example.edu")
    response = client.get(f"/sessions?{query}")
    assert response.status_code == 200
    assert rooms(response.get_data(as_text=True)) == expected


@pytest.mark.parametrize("query", ["from=2026-13-01", "from=2026-12-10&to=2026-12-01", "state=sideways",
                                   "course_id=abc", "from=0001-01-01"])
def test_bad_filters_are_a_400_with_the_reason(client, auth, week, query):
    auth.login("lecturer@example.edu")
    response = client.get(f"/sessions?{query}")
    assert response.status_code == 400
    assert 'class="invalid-feedback' in response.get_data(as_text=True)


def test_nothing_matching_says_so(client, auth, week):
    auth.login("lecturer@example.edu")
    html = client.get("/sessions?from=2030-01-01").get_data(as_text=True)
    assert "No sessions match these filters" in html


def test_pages_keep_the_filters(client, auth, people):
    for days in range(30):
        make_session(people["course"], starts_in=timedelta(days=days + 1), lecturer=people["lecturer"])
    auth.login("lecturer@example.edu")
    html = client.get("/sessions?state=upcoming").get_data(as_text=True)
    assert "state=upcoming&amp;page=2" in html or "page=2&amp;state=upcoming" in html
    assert client.get("/sessions?state=upcoming&page=2").status_code == 200


def test_a_lecturer_filters_only_by_their_courses(client, auth, people, week):
    make_course(people["course"].program, code="LAW1", name="Contracts")
    auth.login("lecturer@example.edu")
    html = client.get("/sessions").get_data(as_text=True)
    assert "CS301 — Algorithms" in html and "LAW1" not in html
