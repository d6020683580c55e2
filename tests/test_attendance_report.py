"""The lecturer's attendance view: confirmed, not confirmed, failed, clusters flagged, CSV export."""
import csv
import io
from datetime import timedelta

from portal.extensions import db
from portal.models import AttendanceRecord
from tests.factories import add_notifications, make_students


def confirm(session, profile, ip, seconds_after_start, distance=None):
    db.session.add(AttendanceRecord(session_id=session.id, student_profile_id=profile.id, ip_address=ip,
                                    recorded_at=session.starts_at + timedelta(seconds=seconds_after_start),
                                    distance_m=distance, user_agent="Phone/1.0"))
    db.session.commit()


def build(people):
    session = people["own_session"]
    program = people["course"].program
    cluster = make_students(program, 3, prefix="cluster")
    alone = make_students(program, 1, prefix="alone")
    later = make_students(program, 1, prefix="later")
    silent = make_students(program, 1, prefix="silent")
    bounced = make_students(program, 1, prefix="bounced")
    add_notifications(session, cluster + alone + later + silent, status="sent", error=None)
    add_notifications(session, bounced, status="failed", error="Recipient refused by mail server (550)")
    for n, profile in enumerate(cluster):
        confirm(session, profile, "10.0.0.7", 10 + 20 * n, distance=5.0 + n)  # 3 within 50 s
    confirm(session, alone[0], "10.0.0.8", 15, distance=12.0)
    confirm(session, later[0], "10.0.0.7", 600)  # same address, ten minutes later: not part of it
    return session


def test_attendance_view_sorts_students_and_flags_clusters(client, auth, people):
    session = build(people)
    auth.login("lecturer@example.edu")
    html = client.get(f"/sessions/{session.id}/attendance").get_data(as_text=True)
    assert "5 of 7 confirmed" in html and "1 not yet" in html and "1 email failed" in html
    assert html.count('data-flagged="true"') == 3
    assert "3 confirmations from 10.0.0.7 within a minute" in html
    not_confirmed = html.split('id="not-confirmed"')[1].split("</ul>")[0]
    assert "silent-0@example.edu" in not_confirmed and "cluster" not in not_confirmed
    failed = html.split('id="email-failed"')[1].split("</ul>")[0]
    assert "bounced-0@example.edu" in failed and "550" in failed


def test_csv_export(client, auth, people):
    session = build(people)
    auth.login("lecturer@example.edu")
    response = client.get(f"/sessions/{session.id}/attendance.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 7
    by_email = {row["email"]: row for row in rows}
    assert by_email["cluster-0@example.edu"]["attendance"] == "confirmed"
    assert by_email["cluster-0@example.edu"]["flagged"] == "yes"
    assert by_email["alone-0@example.edu"]["flagged"] == "" and by_email["alone-0@example.edu"]["distance_m"] == "12.0"
    assert by_email["later-0@example.edu"]["flagged"] == ""
    assert by_email["silent-0@example.edu"]["attendance"] == "not confirmed"
    assert by_email["bounced-0@example.edu"]["attendance"] == "email failed"
    assert by_email["cluster-0@example.edu"]["confirmed_at"] == (
        session.starts_at + timedelta(seconds=10)).strftime("%Y-%m-%d %H:%M")


def test_csv_neutralises_formulas(client, auth, people):
    session = people["own_session"]
    profile = make_students(people["course"].program, 1, prefix="formula")[0]
    profile.user.first_name = "=HYPERLINK(\"http://evil\")"
    db.session.commit()
    add_notifications(session, [profile], status="sent", error=None)
    confirm(session, profile, "=1+1", 5)  # what a misconfigured proxy header could put there
    auth.login("lecturer@example.edu")
    rows = list(csv.DictReader(io.StringIO(client.get(f"/sessions/{session.id}/attendance.csv").get_data(as_text=True))))
    assert rows[0]["first_name"].startswith("'=") and rows[0]["ip_address"] == "'=1+1"


def test_another_lecturer_cannot_see_the_attendance(client, auth, people):
    auth.login("other@example.edu")
    assert client.get(f"/sessions/{people['own_session'].id}/attendance").status_code == 404
    assert client.get(f"/sessions/{people['own_session'].id}/attendance.csv").status_code == 404
