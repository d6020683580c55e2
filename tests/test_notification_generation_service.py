from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from portal.exceptions import SessionNotFoundError
from portal.extensions import db
from portal.models import EmailNotification, NotificationStatus
from portal.services.jwt_service import JWTTokenService
from portal.services.notification_generation_service import NotificationGenerationService
from tests.factories import make_course, make_program, make_session, make_students


@pytest.fixture
def jwt_service(app):
    return JWTTokenService.from_config(app.config)


@pytest.fixture
def service(jwt_service):
    return NotificationGenerationService(jwt_service, token_expiry_minutes=60, token_grace_minutes=15)


@pytest.fixture
def school(app):
    """Program CS (streams A and B) and an unrelated program BIO, with students in each."""
    cs = make_program("CS", streams=("A", "B"))
    bio = make_program("BIO", streams=())
    stream_a, stream_b = cs.streams
    return {
        "course": make_course(cs),
        "a": make_students(cs, 3, stream=stream_a),
        "b": make_students(cs, 2, stream=stream_b),
        "no_stream": make_students(cs, 1),
        "inactive": make_students(cs, 2, stream=stream_a, active=False),
        "bio": make_students(bio, 4),
        "stream_a": stream_a,
        "bio_program": bio,
    }


def notified_profiles(session_id) -> set[int]:
    query = select(EmailNotification.student_profile_id).where(EmailNotification.session_id == session_id)
    return set(db.session.scalars(query))


def test_whole_program_reaches_every_active_student_of_it_only(service, school):
    session = make_session(school["course"])
    summary = service.generate_notifications_for_session(session.id)
    expected = {p.id for p in school["a"] + school["b"] + school["no_stream"]}
    assert summary == {"session_id": session.id, "notifications_created": 6, "eligible_students": 6}
    assert notified_profiles(session.id) == expected


def test_stream_session_reaches_only_that_stream(service, school):
    session = make_session(school["course"], stream=school["stream_a"])
    summary = service.generate_notifications_for_session(session.id)
    assert summary["notifications_created"] == 3
    assert notified_profiles(session.id) == {p.id for p in school["a"]}


def test_inactive_user_account_is_not_eligible(service, school):
    school["a"][0].user.is_active = False
    db.session.commit()
    session = make_session(school["course"], stream=school["stream_a"])
    assert service.generate_notifications_for_session(session.id)["eligible_students"] == 2


def test_zero_eligible_is_success_with_zero_created(service, school):
    empty = make_program("EMPTY", streams=())
    session = make_session(make_course(empty, code="E1"))
    summary = service.generate_notifications_for_session(session.id)
    assert summary == {"session_id": session.id, "notifications_created": 0, "eligible_students": 0}
    assert session.generation_status == "done"


def test_running_twice_creates_nothing_new(service, school):
    session = make_session(school["course"])
    first = service.generate_notifications_for_session(session.id)
    second = service.generate_notifications_for_session(session.id)
    assert first["notifications_created"] == 6
    assert second == {"session_id": session.id, "notifications_created": 0, "eligible_students": 6}
    count = db.session.scalar(select(func.count()).select_from(EmailNotification))
    assert count == 6


def test_a_student_added_later_is_picked_up_by_a_second_run(service, school):
    session = make_session(school["course"], stream=school["stream_a"])
    service.generate_notifications_for_session(session.id)
    make_students(school["stream_a"].program, 1, stream=school["stream_a"])
    assert service.generate_notifications_for_session(session.id)["notifications_created"] == 1


@pytest.mark.parametrize("length, lasts", [
    (timedelta(minutes=30), timedelta(minutes=60)),  # a short session: the seed's start + 60 minutes
    (timedelta(hours=1), timedelta(minutes=75)),  # the end + 15 minutes' grace is later
    (timedelta(hours=3), timedelta(hours=3, minutes=15)),  # a 3-hour lab's links work until it ends, and then some
])
def test_tokens_are_pending_unique_and_expire_at_the_later_of_start_plus_60_and_end_plus_15(
        service, jwt_service, school, length, lasts):
    session = make_session(school["course"], length=length)
    service.generate_notifications_for_session(session.id)
    rows = db.session.scalars(select(EmailNotification)).all()
    assert {r.status for r in rows} == {NotificationStatus.PENDING}
    assert len({r.token for r in rows}) == len(rows)
    for row in rows:
        assert row.token_expires_at == session.starts_at + lasts
        payload = jwt_service.decode_token(row.token)
        assert payload["student_profile_id"] == row.student_profile_id
        assert payload["session_id"] == session.id
        assert payload["exp"] == int(row.token_expires_at.timestamp())


def test_unknown_session_raises(service, app):
    with pytest.raises(SessionNotFoundError):
        service.generate_notifications_for_session(404)


def _notifications(session, statuses):
    rows = db.session.scalars(select(EmailNotification).where(EmailNotification.session_id == session.id)
                              .order_by(EmailNotification.id)).all()
    for row, status in zip(rows, statuses):
        row.status = status
        row.attempts = 3
        row.last_error = "boom" if status == NotificationStatus.FAILED else None
        row.sent_at = datetime.now(timezone.utc) if status == NotificationStatus.FAILED else None
    db.session.commit()
    return rows


def test_retry_resets_failed_rows_and_reports_the_rest(jwt_service, school):
    dispatched = []
    service = NotificationGenerationService(jwt_service, dispatch=dispatched.append)
    session = make_session(school["course"])
    service.generate_notifications_for_session(session.id)
    failed1, failed2, sent, pending = _notifications(session, ["failed", "failed", "sent", "pending"])[:4]

    summary = service.retry_failed_notifications([failed1.id, failed2.id, sent.id, pending.id, 999999])

    assert summary["retried"] == 2
    assert summary["skipped"] == 2
    assert "Notification 999999 not found" in summary["errors"]
    assert any(f"Notification {sent.id} skipped" in e and "sent" in e for e in summary["errors"])
    assert len(summary["errors"]) == 3
    assert dispatched == [[failed1.id, failed2.id]]
    db.session.expire_all()
    for row in (failed1, failed2):
        assert row.status == NotificationStatus.PENDING
        assert row.sent_at is None and row.attempts == 0
    assert sent.status == NotificationStatus.SENT


def test_retry_skips_a_failed_row_whose_link_has_expired(service, school):
    session = make_session(school["course"])
    service.generate_notifications_for_session(session.id)
    row = _notifications(session, ["failed"])[0]
    row.token_expires_at = datetime.now(timezone.utc) - timedelta(minutes=1)
    db.session.commit()
    summary = service.retry_failed_notifications([row.id])
    assert summary["retried"] == 0 and summary["skipped"] == 1
    assert "link expired" in summary["errors"][0]
    db.session.refresh(row)
    assert row.status == NotificationStatus.FAILED
