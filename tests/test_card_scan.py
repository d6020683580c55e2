"""The student-card scan: card codes, the per-session choice, matching, the "Can't scan?"
fallback, the lecturer's accept and reject, the import's card_code column, the printable
cards and reissuing a lost card's code. (The camera itself: tests/test_card_scan_browser.py.)"""
import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AttendanceRecord, AttendanceSession, CardCheck, Review, StudentProfile
from portal.students import card_codes
from portal.students.importing import import_students
from tests.factories import link_for, make_session, make_students
from tests.smtp_servers import parts

ROOM = (-1.28333, 36.81667)


@pytest.fixture
def scan_session(app, people):
    """A session that started a minute ago and requires the card, and one of its students."""
    session = make_session(people["course"], starts_in=timedelta(minutes=-1), lecturer=people["lecturer"],
                           require_id_scan=True)
    profile = make_students(people["course"].program, 1)[0]
    return session, profile, link_for(app, session, profile)


def confirm(client, token, **fields):
    return client.post("/attendance", data={"token": token, **fields})


def record_of(profile) -> AttendanceRecord | None:
    db.session.expire_all()
    return db.session.scalar(select(AttendanceRecord).where(AttendanceRecord.student_profile_id == profile.id))


# --- card codes -------------------------------------------------------------------------

def test_a_card_code_defaults_to_the_student_number(app, people):
    profile = make_students(people["course"].program, 1)[0]
    assert profile.card_code == profile.student_number


def test_matching_is_exact_apart_from_surrounding_space():
    assert card_codes.matches("CS-2024-0042", "CS-2024-0042")
    assert card_codes.matches("  CS-2024-0042\n", "CS-2024-0042")
    assert not card_codes.matches("cs-2024-0042", "CS-2024-0042")
    assert not card_codes.matches("CS-2024-004", "CS-2024-0042")
    assert not card_codes.matches("", "CS-2024-0042")
    assert not card_codes.matches(None, "CS-2024-0042")
    assert not card_codes.matches("CS-2024-0042" * 20, "CS-2024-0042")


def test_a_code_is_never_shown_whole():
    assert card_codes.masked("CS-2024-0042") == "…0042"
    assert card_codes.masked("AB12C") == "…2C"
    assert card_codes.masked("ABC") == "…"
    code = card_codes.new_code()
    assert len(code) == 12 and set(code) <= set(card_codes.ALPHABET) and code != card_codes.new_code()


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("CS-2024-0042", None, ("…0042", "…0042")),  # no new code keeps the old one
    ("CS-2024-0042", "CS-2024-0042", ("…0042", "…0042")),
    ("CS-2024-0042", "CARD-7788-XY", ("…0042", "…8-XY")),
    ("CS-2024-0042", "XX-9999-0042", ("…0042", "…0042 (new)")),  # another code, the same last four
    (None, "CARD-7788-XY", ("—", "…8-XY")),
])
def test_a_changed_card_code_is_told_apart_even_when_its_ends_match(old, new, expected):
    assert card_codes.masked_change(old, new) == expected


# --- confirming -------------------------------------------------------------------------

def test_the_right_card_records_attendance_as_scanned(client, scan_session):
    session, profile, token = scan_session
    page = client.get(f"/attendance?token={token}").get_data(as_text=True)
    assert 'data-needs-scan="true"' in page and 'name="id_scan"' in page and "Can't scan? Confirm without my card" in page
    assert "vendor/jsqr/jsQR.js" in page
    response = confirm(client, token, id_scan=profile.card_code)
    assert response.status_code == 200
    assert "Your student card was scanned" in response.get_data(as_text=True)
    assert record_of(profile).card_check == CardCheck.SCANNED


def test_someone_elses_card_is_refused_and_the_link_stays_usable(client, scan_session, people):
    session, profile, token = scan_session
    friend = make_students(people["course"].program, 1)[0]
    response = confirm(client, token, id_scan=friend.card_code)
    assert response.status_code == 403
    assert "This is not your student card" in response.get_data(as_text=True)
    assert record_of(profile) is None
    assert confirm(client, token, id_scan=profile.card_code).status_code == 200
    assert record_of(profile).card_check == CardCheck.SCANNED


def test_no_scan_and_no_fallback_is_refused(client, scan_session):
    session, profile, token = scan_session
    response = confirm(client, token)
    assert response.status_code == 400
    assert "needs your student card scanned" in response.get_data(as_text=True)
    assert record_of(profile) is None


def test_cant_scan_records_attendance_flagged_as_not_scanned(client, scan_session):
    session, profile, token = scan_session
    response = confirm(client, token, without_card="1")
    assert response.status_code == 200
    assert "your lecturer will check" in response.get_data(as_text=True)
    record = record_of(profile)
    assert record.card_check == CardCheck.NOT_SCANNED and record.needs_review and record.counts_as_present


def test_a_session_without_the_requirement_ignores_scans(client, app, people):
    session = make_session(people["course"], starts_in=timedelta(minutes=-1))
    profile = make_students(people["course"].program, 1)[0]
    token = link_for(app, session, profile)
    assert 'data-needs-scan="false"' in client.get(f"/attendance?token={token}").get_data(as_text=True)
    assert confirm(client, token, id_scan="somebody else").status_code == 200
    assert record_of(profile).card_check == CardCheck.NOT_REQUIRED


def test_position_and_scan_are_both_required(client, app, people):
    session = make_session(people["course"], starts_in=timedelta(minutes=-1), require_id_scan=True,
                           latitude=ROOM[0], longitude=ROOM[1])
    profile, friend = make_students(people["course"].program, 2)
    token = link_for(app, session, profile)
    far = {"latitude": ROOM[0] + 500 / 111_195, "longitude": ROOM[1]}
    near = {"latitude": ROOM[0], "longitude": ROOM[1]}
    assert confirm(client, token, id_scan=profile.card_code, **far).status_code == 403  # the card, but not there
    assert confirm(client, token, id_scan=friend.card_code, **near).status_code == 403  # there, but not the card
    assert confirm(client, token, id_scan=profile.card_code).status_code == 400  # no position at all
    assert record_of(profile) is None
    assert confirm(client, token, id_scan=profile.card_code, **near).status_code == 200
    assert record_of(profile).card_check == CardCheck.SCANNED


# --- the lecturer's side ----------------------------------------------------------------

def test_the_form_offers_the_scan_with_its_default_from_the_settings(client, auth, app, people):
    auth.login("lecturer@example.edu")
    assert "checked" not in _checkbox(client.get("/sessions/new").get_data(as_text=True))
    app.config["ATTENDANCE_REQUIRE_ID_SCAN"] = True
    assert "checked" in _checkbox(client.get("/sessions/new").get_data(as_text=True))
    day = (db.session.get(AttendanceSession, people["own_session"].id).starts_at + timedelta(days=2))
    response = client.post("/sessions/new", data={
        "course_id": people["course"].id, "program_id": people["course"].program_id, "stream_id": "",
        "session_date": day.strftime("%Y-%m-%d"), "start_time": "10:00", "end_time": "11:00",
        "require_id_scan": "y"})
    assert response.status_code == 302
    session = db.session.scalar(select(AttendanceSession).order_by(AttendanceSession.id.desc()))
    assert session.require_id_scan
    assert "student card scan required" in client.get(response.location).get_data(as_text=True)


def _checkbox(html: str) -> str:
    start = html.index('id="require_id_scan"')
    return html[html.rindex("<input", 0, start):html.index(">", start)]


@pytest.mark.parametrize("required", [True, False])
def test_the_email_mentions_the_scan_only_when_it_is_required(app, people, smtp_server, run_worker, required):
    from portal.delivery import queueing

    session = make_session(people["course"], require_id_scan=required)
    profile = make_students(people["course"].program, 1)[0]
    queueing.enqueue_generation(session.id)
    run_worker()
    message = next(r.message for r in smtp_server.handler.received if r.recipient == profile.user.email)
    for text in parts(message).values():
        assert ("You must scan your student ID QR code" in text) is required


def test_the_lecturer_accepts_or_rejects_a_confirmation_without_the_card(client, auth, scan_session, people):
    session, profile, token = scan_session
    confirm(client, token, without_card="1")
    record = record_of(profile)
    auth.login("lecturer@example.edu")
    page = client.get(f"/sessions/{session.id}/attendance").get_data(as_text=True)
    assert "For review: 1 confirmation" in page and "card not scanned" in page

    review = f"/sessions/{session.id}/attendance/{record.id}/review"
    response = client.post(review, data={"decision": "rejected"})
    assert response.status_code == 303
    record = record_of(profile)
    assert record.review == Review.REJECTED and not record.counts_as_present
    assert record.reviewed_by_id == people["lecturer"].id and record.reviewed_at is not None
    page = client.get(f"/sessions/{session.id}/attendance").get_data(as_text=True)
    assert "0 of 1 confirmed · 1 rejected" in page and "rejected by Lee Lecturer" in page
    assert "For review" not in page

    rows = list(csv.DictReader(io.StringIO(client.get(f"/sessions/{session.id}/attendance.csv").get_data(
        as_text=True))))
    assert rows[0]["attendance"] == "rejected" and rows[0]["card"] == "card not scanned"
    assert rows[0]["review_reason"] == "card not scanned"
    assert rows[0]["review"].startswith("rejected by Lee Lecturer at ")

    assert client.post(review, data={"decision": "accepted"}).status_code == 303  # a decision can be changed
    assert record_of(profile).review == Review.ACCEPTED
    from portal.models import AuditEvent  # every decision is kept, the record has the latest
    details = db.session.scalars(select(AuditEvent.details).where(AuditEvent.action == "attendance.review")
                                 .order_by(AuditEvent.id)).all()
    assert details == ["card not scanned: not reviewed → rejected", "card not scanned: rejected → accepted"]
    page = client.get(f"/sessions/{session.id}/attendance").get_data(as_text=True)
    assert "1 of 1 confirmed" in page and "accepted by Lee Lecturer" in page


def test_only_a_confirmation_without_the_card_can_be_reviewed_and_only_by_its_owner(client, auth, scan_session):
    session, profile, token = scan_session
    confirm(client, token, id_scan=profile.card_code)
    record = record_of(profile)
    review = f"/sessions/{session.id}/attendance/{record.id}/review"
    auth.login("other@example.edu")
    assert client.post(review, data={"decision": "rejected"}).status_code == 404  # not their session
    auth.logout()
    auth.login("lecturer@example.edu")
    response = client.post(review, data={"decision": "rejected"})
    assert response.status_code == 400 and "flagged for review" in response.get_data(as_text=True)
    assert client.post(f"/sessions/{session.id}/attendance/{record.id + 1}/review",
                       data={"decision": "rejected"}).status_code == 404
    assert record_of(profile).review is None


def test_a_made_up_decision_is_a_400(client, auth, scan_session):
    session, profile, token = scan_session
    confirm(client, token, without_card="1")
    auth.login("lecturer@example.edu")
    response = client.post(f"/sessions/{session.id}/attendance/{record_of(profile).id}/review",
                           data={"decision": "maybe"})
    assert response.status_code == 400 and record_of(profile).review is None


def test_the_csv_says_how_each_confirmation_was_made(client, auth, app, people):
    plain = make_session(people["course"], starts_in=timedelta(minutes=-1), lecturer=people["lecturer"])
    profile = make_students(people["course"].program, 1)[0]
    confirm(client, link_for(app, plain, profile))
    auth.login("lecturer@example.edu")
    rows = list(csv.DictReader(io.StringIO(client.get(f"/sessions/{plain.id}/attendance.csv").get_data(
        as_text=True))))
    assert [(row["attendance"], row["card"], row["review_reason"], row["review"]) for row in rows] == [
        ("confirmed", "no scan needed", "", "")]


# --- import, cards, a lost card ---------------------------------------------------------

HEADER = "student_number,first_name,last_name,email,program_code,stream"


def test_the_import_takes_an_optional_card_code(people):
    import_students(f"{HEADER},card_code\nS1,Ann,Lee,ann@example.edu,CS,,CARD-0001-XYZ\nS2,Ben,Ode,ben@example.edu,CS,,\n")
    import_students(f"{HEADER}\nS3,Cy,Lin,cy@example.edu,CS,\n")
    codes = dict(db.session.execute(select(StudentProfile.student_number, StudentProfile.card_code)).all())
    assert codes == {"S1": "CARD-0001-XYZ", "S2": "S2", "S3": "S3"}


@pytest.mark.parametrize("text, problem", [
    (f"{HEADER},card_code\nS1,Ann,Lee,ann@example.edu,CS,,SAME-CODE-1\nS2,Ben,Ode,ben@example.edu,CS,,SAME-CODE-1\n",
     "Line 3: card code ending …DE-1 is already another student's"),
    (f"{HEADER},card_code\nS1,Ann,Lee,ann@example.edu,CS,,S2\nS2,Ben,Ode,ben@example.edu,CS,,\n",
     "Line 3: student number S2 is another student's card code"),
    (f"{HEADER},card_code\nS1,Ann,Lee,ann@example.edu,CS,,{'X' * 129}\n",
     "Line 2: card_code must be at most 128 characters"),
    (f"{HEADER},card_code\nS1,Ann,Lee,ann@example.edu,CS,,AB\tCD\n",
     "Line 2: card_code must not contain control characters"),
])
def test_a_bad_or_taken_card_code_is_refused_with_its_line(people, text, problem):
    from portal.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        import_students(text)
    assert any(error.startswith(problem) for error in caught.value.errors), caught.value.errors
    assert db.session.scalar(select(StudentProfile.id)) is None


def test_the_printable_sheet_has_a_qr_code_per_student_and_no_whole_code(client, auth, people):
    students = make_students(people["course"].program, 3)
    card_codes.reissue(students[0])
    auth.login("admin@example.edu")
    response = client.get(f"/admin/cards?program_id={people['course'].program_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count('class="id-card"') == 3 and html.count("<svg") == 3
    for profile in students:
        assert profile.user.full_name in html and profile.student_number in html
    assert students[0].card_code not in html and f"Card code {card_codes.masked(students[0].card_code)}" in html
    assert client.get("/admin/cards").status_code == 200  # the program picker
    assert client.get("/admin/cards?program_id=99999").status_code == 404
    auth.logout()
    auth.login("lecturer@example.edu")
    assert client.get(f"/admin/cards?program_id={people['course'].program_id}").status_code == 403


def test_a_lost_card_gets_a_new_code_and_the_old_card_stops_working(client, auth, app, people):
    session = make_session(people["course"], starts_in=timedelta(minutes=-1), require_id_scan=True)
    profile = make_students(people["course"].program, 1)[0]
    old = profile.card_code
    auth.login("admin@example.edu")
    page = client.get(f"/admin/students/{profile.id}/card")
    assert page.status_code == 200 and "current card stops scanning" in page.get_data(as_text=True)
    assert record_of(profile) is None and profile.card_code == old  # a GET changes nothing
    response = client.post(f"/admin/students/{profile.id}/card")
    assert response.status_code == 303 and f"program_id={profile.program_id}" in response.location
    db.session.expire_all()
    new = db.session.get(StudentProfile, profile.id).card_code
    assert new != old and len(new) == 12
    assert client.get(f"/admin/students/{profile.id + 100}/card").status_code == 404
    auth.logout()

    token = link_for(app, session, profile)
    assert confirm(client, token, id_scan=old).status_code == 403
    assert confirm(client, token, id_scan=new).status_code == 200
