"""The position check with the phone's reported accuracy: the decision table, then through
HTTP (recorded, flagged, refused with Try again) and the lecturer's one review list."""
import csv
import io
import math
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.attendance.position import Verdict, judge, uncertainty_words
from portal.extensions import db
from portal.models import AttendanceRecord, AuditEvent, Review
from tests.factories import link_for, make_session, make_students

ROOM = (-1.28333, 36.81667)
MAX = 150


def north_of(metres):
    """A point `metres` due north of the room (1 degree of latitude ≈ 111,195 m on the mean sphere)."""
    return ROOM[0] + metres / 111_194.93, ROOM[1]


# --- the decision table --------------------------------------------------------------------

@pytest.mark.parametrize("distance, accuracy, verdict", [
    (0, 5, Verdict.INSIDE),
    (30, 5, Verdict.INSIDE),  # on the circle is inside
    (30, 150, Verdict.INSIDE),  # at the accuracy limit, still precise enough
    (10, 151, Verdict.UNCERTAIN),  # centred inside, but known too roughly to be sure
    (10, 600, Verdict.UNCERTAIN),
    (10, None, Verdict.UNCERTAIN),  # accuracy unknown: never "inside" by default
    (44, 35, Verdict.UNCERTAIN),  # the error circle reaches the room
    (44, 14, Verdict.UNCERTAIN),  # 44 − 14 = 30: just reaches it
    (44, 13.9, Verdict.TOO_FAR),
    (44, 5, Verdict.TOO_FAR),
    (44, None, Verdict.TOO_FAR),  # no benefit of the doubt without an accuracy
    (44, 600, Verdict.TOO_ROUGH),  # it might be in the room, but nobody can tell
    (180, 150, Verdict.UNCERTAIN),  # 180 − 150 = 30, at the limit
    (181, 151, Verdict.TOO_ROUGH),
    (800, 600, Verdict.TOO_FAR),  # even the rough circle misses the room
])
def test_the_decision_table(distance, accuracy, verdict):
    assert judge(distance, accuracy, radius=30, max_accuracy=MAX) == verdict


def test_the_radius_is_the_sessions():
    assert judge(90, 5, radius=100, max_accuracy=MAX) == Verdict.INSIDE
    assert judge(90, 5, radius=50, max_accuracy=MAX) == Verdict.TOO_FAR


def test_the_words_for_the_lecturer():
    assert uncertainty_words(44.4, 35.2) == "position uncertain (44 m ± 35 m)"
    assert uncertainty_words(12, None) == "position uncertain (12 m accuracy unknown)"


# --- through HTTP -------------------------------------------------------------------------

@pytest.fixture
def located(app, people):
    """A session with a location, started a minute ago, and one student's link."""

    def make(radius_m=30):
        session = make_session(people["course"], starts_in=timedelta(minutes=-1), latitude=ROOM[0],
                               longitude=ROOM[1], radius_m=radius_m, lecturer=people["lecturer"])
        profile = make_students(people["course"].program, 1, prefix=f"s{session.id}-")[0]
        return session, profile, link_for(app, session, profile)

    return make


def post(client, token, metres, accuracy, **extra):
    lat, lon = north_of(metres)
    data = {"token": token, "latitude": lat, "longitude": lon, **extra}
    if accuracy is not None:
        data["accuracy"] = accuracy
    return client.post("/attendance", data=data)


def records() -> int:
    return db.session.scalar(select(func.count()).select_from(AttendanceRecord))


def test_inside_with_a_good_fix_is_recorded_unflagged_with_its_accuracy(client, located):
    session, profile, token = located()
    response = post(client, token, 12, 8)
    assert response.status_code == 200 and "Attendance recorded" in response.get_data(as_text=True)
    record = db.session.scalar(select(AttendanceRecord))
    assert record.accuracy_m == 8 and record.distance_m == pytest.approx(12, abs=0.05)
    assert not record.position_uncertain and not record.needs_review


def test_44_m_give_or_take_35_is_recorded_flagged_for_the_lecturer(client, auth, located, people):
    session, profile, token = located()
    response = post(client, token, 44, 35)
    assert response.status_code == 200
    record = db.session.scalar(select(AttendanceRecord))
    assert record.position_uncertain and record.needs_review and record.counts_as_present
    assert (round(record.distance_m), record.accuracy_m) == (44, 35)

    auth.login("lecturer@example.edu")
    page = client.get(f"/sessions/{session.id}/attendance").get_data(as_text=True)
    assert "For review: 1 confirmation" in page and "position uncertain (44 m ± 35 m)" in page
    assert "44 m ± 35 m" in page
    rows = list(csv.DictReader(io.StringIO(client.get(f"/sessions/{session.id}/attendance.csv").get_data(
        as_text=True))))
    assert (rows[0]["distance_m"], rows[0]["accuracy_m"], rows[0]["position"]) == ("44.0", "35.0", "uncertain")
    assert rows[0]["review_reason"] == "position uncertain (44 m ± 35 m)" and rows[0]["review"] == ""

    response = client.post(f"/sessions/{session.id}/attendance/{record.id}/review", data={"decision": "accepted"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(AttendanceRecord, record.id).review == Review.ACCEPTED
    page = client.get(f"/sessions/{session.id}/attendance").get_data(as_text=True)
    assert "For review" not in page and "position uncertain (44 m ± 35 m): accepted by Lee Lecturer" in page
    assert db.session.scalar(select(AuditEvent.details).where(AuditEvent.action == "attendance.review")) == \
        "position uncertain (44 m ± 35 m): not reviewed → accepted"


def test_44_m_give_or_take_5_is_refused_with_try_again_and_the_link_still_works(client, located):
    session, profile, token = located()
    response = post(client, token, 44, 5)
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "You are about 44 m from the session location (your phone&#39;s position is known to ±5 m)" in html
    assert "move closer to the room and try again" in html
    assert ">Try again</button>" in html and 'name="token"' in html  # the confirm page again, ready to retry
    assert records() == 0
    assert post(client, token, 10, 5).status_code == 200  # moved closer: the same link works
    assert records() == 1


def test_a_rough_fix_is_asked_for_precise_location(client, located):
    session, profile, token = located()
    response = post(client, token, 44, 600)
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "your phone&#39;s position is only known to ±600 m: turn on precise location, step near a window" in html
    assert ">Try again</button>" in html and records() == 0


def test_missing_accuracy_records_inside_the_circle_only_flagged(client, located):
    session, profile, token = located()
    assert post(client, token, 10, None).status_code == 200
    record = db.session.scalar(select(AttendanceRecord))
    assert record.position_uncertain and record.accuracy_m is None


@pytest.mark.parametrize("accuracy", ["-1", "nan", "inf", "1e400", "wide"])
def test_an_unreadable_accuracy_is_400_with_try_again(client, located, accuracy):
    session, profile, token = located()
    response = post(client, token, 10, accuracy)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Your location could not be read" in html and ">Try again</button>" in html
    assert records() == 0


def test_an_accuracy_without_a_position_is_ignored_where_none_is_needed(client, app, people):
    session = make_session(people["course"], starts_in=timedelta(minutes=-1))
    profile = make_students(people["course"].program, 1)[0]
    response = client.post("/attendance", data={"token": link_for(app, session, profile), "accuracy": "20"})
    assert response.status_code == 200
    assert db.session.scalar(select(AttendanceRecord.accuracy_m)) is None


def test_the_limit_on_accuracy_is_a_setting(client, app, located):
    app.config["ATTENDANCE_MAX_ACCURACY_METRES"] = 40
    session, profile, token = located()
    assert post(client, token, 44, 45).status_code == 403  # would have been let in under 150
    assert post(client, token, 44, 35).status_code == 200


def test_the_radius_is_per_session(client, located):
    session, profile, token = located(radius_m=100)
    response = post(client, token, 90, 5)
    assert response.status_code == 200
    assert not db.session.scalar(select(AttendanceRecord.position_uncertain))


def test_accept_all_accepts_what_was_shown_and_not_what_came_since(client, auth, app, people, located):
    session, first, token = located()
    assert post(client, token, 44, 35).status_code == 200
    second = make_students(people["course"].program, 1, prefix="second")[0]
    assert post(client, link_for(app, session, second), 50, 40).status_code == 200
    shown = [r.id for r in db.session.scalars(select(AttendanceRecord).order_by(AttendanceRecord.id))]
    late = make_students(people["course"].program, 1, prefix="late")[0]
    assert post(client, link_for(app, session, late), 60, 40).status_code == 200  # after the page was shown

    auth.login("lecturer@example.edu")
    page = client.get(f"/sessions/{session.id}/attendance").get_data(as_text=True)
    assert "Accept all 3" in page
    response = client.post(f"/sessions/{session.id}/attendance/accept-all", data={"record_id": shown})
    assert response.status_code == 303
    db.session.expire_all()
    reviews = {r.student_profile_id: r.review for r in db.session.scalars(select(AttendanceRecord))}
    assert reviews == {first.id: Review.ACCEPTED, second.id: Review.ACCEPTED, late.id: None}
    again = client.post(f"/sessions/{session.id}/attendance/accept-all", data={"record_id": shown},
                        follow_redirects=True)
    assert "Nothing to accept" in again.get_data(as_text=True)
    assert client.post(f"/sessions/{session.id}/attendance/accept-all",
                       data={"record_id": ["x"]}).status_code == 400


def test_accept_all_is_the_owners_or_an_admins(client, auth, people, located):
    session, profile, token = located()
    assert post(client, token, 44, 35).status_code == 200
    record_id = db.session.scalar(select(AttendanceRecord.id))
    auth.login("other@example.edu")
    assert client.post(f"/sessions/{session.id}/attendance/accept-all",
                       data={"record_id": [record_id]}).status_code == 404
    assert db.session.scalar(select(AttendanceRecord.review)) is None


def test_no_nan_slips_into_the_decision():
    assert judge(math.nan, 5, 30, MAX) == Verdict.TOO_FAR
