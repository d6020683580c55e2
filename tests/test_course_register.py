"""The course register: students by sessions, a status in each cell, rates, the low-attendance
highlight, filters and the CSV, checked against an example worked out by hand."""
import csv
import io
from datetime import datetime, timedelta, timezone

import pytest

from portal.extensions import db
from portal.models import AttendanceMark, AttendanceRecord
from tests.factories import (
    add_notifications,
    assign,
    counting_queries,
    make_course,
    make_program,
    make_session,
    make_students,
)


def confirm(session, student, minutes_after_start):
    db.session.add(AttendanceRecord(session_id=session.id, student_profile_id=student.id,
                                    recorded_at=session.starts_at + timedelta(minutes=minutes_after_start)))


def hand_mark(session, student, status, by):
    db.session.add(AttendanceMark(session_id=session.id, student_profile_id=student.id, status=status,
                                  marked_by_id=by.id, marked_at=datetime.now(timezone.utc)))


@pytest.fixture
def term(app, people):
    """Three students over four sessions and a cancelled one (ATTENDANCE_LATE_AFTER_MINUTES=15):

                 s1 (2 days ago)  s2 (yesterday)  s4 (stream B, 2 h later)  s3 (tomorrow)   rate
        Ann (A)  present          absent          not on list               present         2/3  67% low
        Ben (A)  late (20 min)    excused (hand)  not on list               not yet         1/1 100%
        Cat (B)  absent           present         absent                    withdrawn       1/3  33% low
    """
    app.config["ATTENDANCE_LATE_AFTER_MINUTES"] = 15
    program, lecturer = people["course"].program, people["lecturer"]
    course = make_course(program, code="CS301", name="Algorithms")
    assign(course, lecturer)
    stream_a, stream_b = program.streams
    ann, ben = make_students(program, 2, stream=stream_a, prefix="a")
    ann.user.first_name, ann.user.last_name, ben.user.first_name, ben.user.last_name = "Ann", "Abe", "Ben", "Bay"
    [cat] = make_students(program, 1, stream=stream_b, prefix="b")
    cat.user.first_name, cat.user.last_name = "Cat", "Cole"
    db.session.commit()
    s1 = make_session(course, starts_in=timedelta(days=-2), lecturer=lecturer)
    s2 = make_session(course, starts_in=timedelta(days=-1), lecturer=lecturer)
    s3 = make_session(course, starts_in=timedelta(days=1), lecturer=lecturer)
    s4 = make_session(course, stream=stream_b, starts_in=timedelta(days=-1, hours=2), lecturer=lecturer)
    gone = make_session(course, starts_in=timedelta(days=-3), lecturer=lecturer,
                        cancelled_at=datetime.now(timezone.utc))
    for session in (s1, s2, gone):
        add_notifications(session, [ann, ben, cat], status="sent", error=None)
    add_notifications(s3, [ann, ben], status="sent", error=None)
    add_notifications(s3, [cat], status="withdrawn", error=None)
    add_notifications(s4, [cat], status="sent", error=None)
    confirm(s1, ann, 2)
    confirm(s1, ben, 20)
    hand_mark(s2, ben, "excused", lecturer)
    confirm(s2, cat, 1)
    confirm(s3, ann, -1)
    confirm(gone, ann, 0)
    db.session.commit()
    return {"course": course, "sessions": (s1, s2, s3, s4), "students": (ann, ben, cat)}


def register_rows(html: str) -> dict[str, tuple[list[str], str]]:
    """{student number: ([cell letters], rate cell text)} from the register table."""
    body = html.split('id="register"')[1].split("<tbody>")[1].split("</tbody>")[0]
    rows = {}
    for tr in body.split("<tr")[1:]:
        number = tr.split('class="small text-body-secondary">')[1].split(" ")[0].split("<")[0]
        cells = [td.split(">", 1)[1].split("</td>")[0] for td in tr.split("<td")[1:]]
        rows[number] = (cells[:-1], cells[-1])
    return rows


def test_the_register_against_the_worked_example(client, auth, term):
    ann, ben, cat = term["students"]
    auth.login("lecturer@example.edu")
    response = client.get(f"/courses/{term['course'].id}/register")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "3 students, 4 sessions." in html and "2 below 75%" in html
    rows = register_rows(html)
    assert rows[ann.student_number][0] == ["P", "A", "·", "P"]
    assert rows[ben.student_number][0] == ["L", "E", "·", ""]
    assert rows[cat.student_number][0] == ["A", "P", "A", "·"]
    assert rows[ann.student_number][1].startswith("67%") and "below 75%" in rows[ann.student_number][1]
    assert rows[ben.student_number][1].startswith("100%") and "below" not in rows[ben.student_number][1]
    assert rows[cat.student_number][1].startswith("33%") and "(1/3)" in rows[cat.student_number][1]
    assert html.count('class="low-attendance"') == 2


def test_the_csv_has_the_same_numbers(client, auth, term):
    ann, ben, cat = term["students"]
    s1, s2, s3, s4 = term["sessions"]
    auth.login("lecturer@example.edu")
    response = client.get(f"/courses/{term['course'].id}/register.csv")
    assert response.mimetype == "text/csv" and "register-CS301.csv" in response.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    header, rows = table[0], {row[0]: row for row in table[1:]}
    assert header[:5] == ["student_number", "first_name", "last_name", "email", "stream"]
    assert [h.rsplit("#", 1)[1] for h in header[5:9]] == [str(s.id) for s in (s1, s2, s4, s3)]
    assert header[9:] == ["attended", "counted", "rate_percent", "below_threshold"]
    assert rows[ann.student_number][4:] == ["A", "present", "absent", "n/a", "present", "2", "3", "66.7", "yes"]
    assert rows[ben.student_number][4:] == ["A", "late", "excused", "n/a", "", "1", "1", "100.0", ""]
    assert rows[cat.student_number][4:] == ["B", "absent", "present", "absent", "n/a", "1", "3", "33.3", "yes"]


def test_filters_by_stream_and_dates(client, auth, term):
    ann, ben, cat = term["students"]
    s1, s2, s3, s4 = term["sessions"]
    auth.login("lecturer@example.edu")
    stream_a = term["course"].program.streams[0]
    html = client.get(f"/courses/{term['course'].id}/register?stream_id={stream_a.id}").get_data(as_text=True)
    rows = register_rows(html)
    assert set(rows) == {ann.student_number, ben.student_number}
    assert rows[ann.student_number][0] == ["P", "A", "P"]  # s4 is stream B's only
    day = f"{s1.starts_at:%Y-%m-%d}"
    html = client.get(f"/courses/{term['course'].id}/register?date_from={day}&date_to={day}").get_data(as_text=True)
    rows = register_rows(html)
    assert "3 students, 1 session." in html
    assert rows[ann.student_number] == (["P"], '100% <span class="small">(1/1)</span>')
    assert rows[cat.student_number][0] == ["A"]


@pytest.mark.parametrize("query", ["date_from=2026-13-01", "date_from=2026-11-20&date_to=2026-11-01",
                                   "stream_id=999999", "stream_id=abc"])
def test_bad_filters_are_a_400_with_the_reason(client, auth, term, query):
    auth.login("lecturer@example.edu")
    for path in ("register", "register.csv"):
        response = client.get(f"/courses/{term['course'].id}/{path}?{query}")
        assert response.status_code == 400
        assert "invalid-feedback" in response.get_data(as_text=True)


def test_who_may_see_a_register(client, auth, term, people):
    course_id = term["course"].id
    auth.login("other@example.edu")  # does not teach CS301
    assert client.get(f"/courses/{course_id}/register").status_code == 404
    assert client.get(f"/courses/{course_id}/register.csv").status_code == 404
    assert client.get(f"/courses/{people['course'].id}/register").status_code == 404  # had a session, not assigned
    assign(people["course"], people["other"])
    assert client.get(f"/courses/{people['course'].id}/register").status_code == 200
    auth.logout()
    elsewhere = make_course(make_program("LAW", streams=()), code="LAW101", name="Contracts")
    auth.login("lecturer@example.edu")
    assert client.get(f"/courses/{course_id}/register").status_code == 200
    assert client.get(f"/courses/{elsewhere.id}/register").status_code == 404
    assert client.get("/courses/999999/register").status_code == 404
    auth.logout()
    auth.login("admin@example.edu")
    assert client.get(f"/courses/{elsewhere.id}/register").status_code == 200
    auth.logout()
    assert client.get(f"/courses/{course_id}/register").status_code in (302, 303)


def test_lecturers_reach_it_from_their_sessions(client, auth, term):
    auth.login("lecturer@example.edu")
    assert f'href="/courses/{term["course"].id}/register"' in client.get("/sessions").get_data(as_text=True)


def test_a_fixed_number_of_queries_whatever_the_size(client, auth, term, people):
    auth.login("lecturer@example.edu")
    course, lecturer = term["course"], people["lecturer"]
    url = f"/courses/{course.id}/register"
    db.session.expunge_all()  # each measured request loads what it needs itself
    with counting_queries() as small:
        client.get(url)
    course, lecturer = db.session.merge(course), db.session.merge(lecturer)
    more = make_students(course.program, 30, prefix="more")
    for n in range(5):
        session = make_session(course, starts_in=timedelta(days=-10 - n), lecturer=lecturer)
        add_notifications(session, more, status="sent", error=None)
    db.session.expunge_all()
    with counting_queries() as big:
        html = client.get(url).get_data(as_text=True)
    assert "33 students, 9 sessions." in html
    assert len(big) == len(small), "\n".join(big)
