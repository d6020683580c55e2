"""Marking attendance by hand: one student or several, a note, a history of who changed what,
the link's evidence kept, and bad input answered without changing anything."""
import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.database import utcnow
from portal.extensions import db
from portal.models import AttendanceMark, AttendanceRecord, CardCheck
from tests.factories import add_notifications, make_session, make_students


@pytest.fixture
def roster(people):
    """The lecturer's session with four emailed students; the first confirmed through the link."""
    session = people["own_session"]
    students = make_students(people["course"].program, 4)
    add_notifications(session, students, status="sent", error=None)
    db.session.add(AttendanceRecord(session_id=session.id, student_profile_id=students[0].id, ip_address="10.1.1.1",
                                    recorded_at=session.starts_at + timedelta(minutes=1), distance_m=4.0,
                                    card_check=CardCheck.SCANNED, user_agent="Phone/1.0"))
    db.session.commit()
    return session, students


def mark(client, session, students, status, note=""):
    return client.post(f"/sessions/{session.id}/attendance/marks",
                       data={"student_id": [str(s.id) for s in students], "status": status, "note": note})


def marks_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AttendanceMark))


def row_of(html: str, student) -> str:
    return html.split(f'id="student-{student.id}"')[1].split("</tr>")[0]


def test_a_lecturer_marks_a_student_whose_phone_died(client, auth, roster):
    session, students = roster
    auth.login("lecturer@example.edu")
    response = mark(client, session, [students[1]], "present", "Phone battery dead; seen in class")
    assert response.status_code == 303 and response.location.endswith(f"#student-{students[1].id}")
    html = client.get(response.location).get_data(as_text=True)
    assert "1 student marked present." in html
    row = row_of(html, students[1])
    assert "attendance-present" in row and "by hand: Lee Lecturer" in row
    assert "“Phone battery dead; seen in class”" in row
    assert "History (1)" in row and "not yet → present" in row


def test_ticking_several_and_the_history_keeps_every_change(client, auth, roster, people):
    session, students = roster
    auth.login("lecturer@example.edu")
    assert mark(client, session, students[1:3], "excused", "Field trip").status_code == 303
    auth.logout()
    auth.login("admin@example.edu")
    assert mark(client, session, [students[2]], "absent", "Not on the trip after all").status_code == 303
    html = client.get(f"/sessions/{session.id}/attendance").get_data(as_text=True)
    assert "attendance-excused" in row_of(html, students[1])
    history = row_of(html, students[2]).split("<details>")[1]
    assert "History (2)" in history
    assert "Lee Lecturer: not yet → excused (“Field trip”)" in history
    assert "Ada Admin: excused → absent (“Not on the trip after all”)" in history
    assert marks_count() == 3


def test_a_hand_mark_keeps_the_links_evidence(client, auth, roster):
    session, students = roster
    auth.login("lecturer@example.edu")
    mark(client, session, [students[0]], "late", "Came in at 08:20")
    record = db.session.scalar(select(AttendanceRecord).where(AttendanceRecord.student_profile_id == students[0].id))
    db.session.refresh(record)
    assert (record.ip_address, record.distance_m, record.card_check) == ("10.1.1.1", 4.0, CardCheck.SCANNED)
    html = client.get(f"/sessions/{session.id}/attendance").get_data(as_text=True)
    assert "link, " not in row_of(html, students[0])  # the mark stands…
    assert "present → late" in row_of(html, students[0])  # …over the confirmation it replaced
    confirmed = html.split('id="confirmed"')[1].split("</table>")[0]
    assert students[0].user.last_name in confirmed and "10.1.1.1" in confirmed  # the evidence is still shown
    rows = {row["email"]: row for row in csv.DictReader(io.StringIO(
        client.get(f"/sessions/{session.id}/attendance.csv").get_data(as_text=True)))}
    first = rows[students[0].user.email]
    assert (first["status"], first["status_note"], first["ip_address"]) == ("late", "Came in at 08:20", "10.1.1.1")
    assert first["status_set_by"].startswith("Lee Lecturer at ")
    assert rows[students[3].user.email]["status"] == ""  # the session has not ended: not known yet


def test_the_same_status_again_adds_no_history(client, auth, roster):
    session, students = roster
    auth.login("lecturer@example.edu")
    mark(client, session, [students[1]], "excused", "Ill")
    response = mark(client, session, [students[1]], "excused", "Ill")
    assert "Nothing changed" in client.get(response.location).get_data(as_text=True)
    assert marks_count() == 1


@pytest.mark.parametrize(("status", "note", "ids", "message"), [
    ("sleeping", "", None, "Choose present, late, excused or absent."),
    ("present", "x" * 501, None, "The note must be at most 500 characters."),
    ("present", "line\nbreak", None, "must not contain control characters"),
    ("present", "", [], "Choose at least one student."),
    ("present", "", ["abc"], "could not be read"),
    ("present", "", ["999999"], "not on this session&#39;s list"),
])
def test_bad_input_changes_nothing_and_says_why(client, auth, roster, status, note, ids, message):
    session, students = roster
    auth.login("lecturer@example.edu")
    data = {"student_id": [str(students[1].id)] if ids is None else ids, "status": status, "note": note}
    response = client.post(f"/sessions/{session.id}/attendance/marks", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Nothing was changed." in html and message in html
    assert marks_count() == 0


def test_only_the_owner_or_an_admin_marks(client, auth, roster, people):
    session, students = roster
    auth.login("other@example.edu")
    assert mark(client, session, [students[1]], "present").status_code == 404
    assert marks_count() == 0


def test_a_cancelled_session_has_nothing_to_mark(client, auth, roster, people):
    session, students = roster
    session.cancelled_at = utcnow()
    db.session.commit()
    auth.login("lecturer@example.edu")
    response = mark(client, session, [students[1]], "present")
    assert response.status_code == 409 and "cancelled" in response.get_data(as_text=True)
    assert marks_count() == 0
    assert "Set by hand" not in client.get(f"/sessions/{session.id}/attendance").get_data(as_text=True)


def test_absent_once_ended_and_late_by_the_setting(client, auth, app, people):
    session = make_session(people["course"], starts_in=timedelta(hours=-2), lecturer=people["lecturer"])
    on_time, late, silent = make_students(people["course"].program, 3)
    add_notifications(session, [on_time, late, silent], status="sent", error=None)
    for student, minutes in ((on_time, 2), (late, 25)):
        db.session.add(AttendanceRecord(session_id=session.id, student_profile_id=student.id,
                                        recorded_at=session.starts_at + timedelta(minutes=minutes)))
    db.session.commit()
    app.config["ATTENDANCE_LATE_AFTER_MINUTES"] = 15
    auth.login("lecturer@example.edu")
    html = client.get(f"/sessions/{session.id}/attendance").get_data(as_text=True)
    assert "attendance-present" in row_of(html, on_time)
    assert "attendance-late" in row_of(html, late)
    assert "attendance-absent" in row_of(html, silent)
    assert "more than 15 minutes after the start" in html
    assert "refreshes by itself" not in html  # ended: nothing more to wait for
    assert "refreshes by itself" in client.get(
        f"/sessions/{people['own_session'].id}/attendance").get_data(as_text=True)


def test_a_mark_on_a_status_that_changed_since_the_page_was_shown_is_refused(client, auth, roster):
    """The lecturer's page showed Bea without a status; she confirms through her link; the mark
    made on the old page is refused with what happened (409), unless the lecturer insists."""
    session, students = roster
    bea = students[1]
    auth.login("lecturer@example.edu")
    page = client.get(f"/sessions/{session.id}/attendance").get_data(as_text=True)
    shown = row_of(page, bea).split(f'name="shown-{bea.id}" value="')[1].split('"')[0]
    assert shown == ""
    db.session.add(AttendanceRecord(session_id=session.id, student_profile_id=bea.id, ip_address="10.1.1.2",
                                    recorded_at=session.starts_at + timedelta(minutes=2), user_agent="Phone/1.0",
                                    card_check=CardCheck.SCANNED))
    db.session.commit()
    data = {"student_id": [str(bea.id)], "status": "absent", "note": "", f"shown-{bea.id}": shown}
    refused = client.post(f"/sessions/{session.id}/attendance/marks", data=data)
    assert refused.status_code == 409 and marks_count() == 0
    assert "confirmed at" in refused.get_data(as_text=True) and "while you were marking; look again" in \
        refused.get_data(as_text=True)
    insisted = client.post(f"/sessions/{session.id}/attendance/marks", data={**data, "override": "y"})
    assert insisted.status_code == 303 and marks_count() == 1


# --- one-page marking: one form, one Save -------------------------------------------------------

def save(client, session, **fields):
    return client.post(f"/sessions/{session.id}/attendance/save", data=fields)


def test_one_save_marks_only_the_rows_given_a_status(client, auth, roster):
    session, students = roster
    auth.login("lecturer@example.edu")
    page = client.get(f"/sessions/{session.id}/attendance").get_data(as_text=True)
    assert page.count('<option value="">no change</option>') == 4 and "Save changes" in page
    response = save(client, session, **{f"status-{students[1].id}": "present", f"note-{students[1].id}": "Paper list",
                                        f"status-{students[2].id}": "excused", f"status-{students[3].id}": "",
                                        f"status-{students[0].id}": ""})
    assert response.status_code == 303
    marks = {m.student_profile_id: (m.status, m.note) for m in db.session.scalars(select(AttendanceMark))}
    assert marks == {students[1].id: ("present", "Paper list"), students[2].id: ("excused", None)}
    html = client.get(response.location).get_data(as_text=True)
    assert "Saved: 2 students marked." in html
    from portal.models import AuditEvent
    details = db.session.scalar(select(AuditEvent.details).where(AuditEvent.action == "attendance.mark"))
    assert details.startswith("1 marked present: ") and "(note: Paper list); 1 marked excused: " in details


def test_a_save_with_nothing_chosen_changes_nothing(client, auth, roster):
    session, students = roster
    auth.login("lecturer@example.edu")
    response = save(client, session, **{f"status-{s.id}": "" for s in students})
    assert response.status_code == 303 and marks_count() == 0
    assert "Nothing to save" in client.get(response.location).get_data(as_text=True)


@pytest.mark.parametrize("fields, message", [
    ({"status-{0}": "maybe"}, "Choose present, late, excused or absent."),
    ({"status-{0}": "", "note-{0}": "a note alone"}, "A note is saved with a status"),
    ({"status-{0}": "present", "status-{1}": "late", "note-{1}": "x" * 501}, "at most 500 characters"),
    ({"status-987654": "present"}, "of the chosen students are not on this session"),
])
def test_bad_input_keeps_what_was_chosen_and_marks_nobody(client, auth, roster, fields, message):
    session, students = roster
    auth.login("lecturer@example.edu")
    data = {key.format(students[1].id, students[2].id): value for key, value in fields.items()}
    response = save(client, session, **data)
    assert response.status_code == 400 and marks_count() == 0
    html = response.get_data(as_text=True)
    assert message in html and "Nothing was changed." in html
    if data.get(f"status-{students[1].id}") == "present":
        assert f'name="status-{students[1].id}"' in html and '<option value="present" selected>' in html


def test_a_save_over_a_status_that_changed_meanwhile_is_a_409(client, auth, roster):
    session, students = roster
    auth.login("lecturer@example.edu")
    fields = {f"status-{students[1].id}": "present", f"shown-{students[1].id}": "absent"}  # the page said absent
    response = save(client, session, **fields)  # but the session has not ended: it is "not yet"
    assert response.status_code == 409 and marks_count() == 0
    assert save(client, session, **fields, override="y").status_code == 303 and marks_count() == 1
