"""The seed's repository methods that the services build on."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from portal.extensions import db
from portal.models import EmailNotification
from portal.repositories import EmailNotificationRepository, StudentProfileRepository
from tests.factories import make_course, make_program, make_session, make_students


def test_bulk_create_update_status_and_get_pending(app):
    course = make_course(make_program("CS", streams=()))
    profiles = make_students(course.program, 3)
    session = make_session(course)
    repo = EmailNotificationRepository()
    expires = session.starts_at + timedelta(hours=1)
    rows = [{"session_id": session.id, "student_profile_id": p.id, "token": f"t{p.id}", "token_expires_at": expires}
            for p in profiles]
    assert repo.bulk_create(rows) == 3
    assert repo.bulk_create(rows) == 0  # duplicates skipped by the database
    db.session.commit()
    ids = repo.get_pending_emails(session.id)
    assert len(ids) == 3
    now = datetime.now(timezone.utc)
    repo.update_status(ids[0], "sent", now=now, sent_at=now)
    repo.update_status(ids[1], "pending", now=now, next_attempt_at=now + timedelta(minutes=5))
    db.session.commit()
    assert repo.get_pending_emails(session.id) == ids[1:]
    assert repo.get_pending_emails(session.id, now=now) == ids[2:]  # the other waits for its retry
    sent = db.session.get(EmailNotification, ids[0])
    assert sent.status == "sent" and sent.sent_at == now
    assert db.session.scalar(select(EmailNotification.token_expires_at).where(EmailNotification.id == ids[2])) == expires


def test_eligible_count_matches_the_list(app):
    program = make_program("CS", streams=("A",))
    make_students(program, 2, stream=program.streams[0])
    make_students(program, 1)
    make_students(program, 1, active=False)
    repo = StudentProfileRepository()
    for stream_id in (None, program.streams[0].id):
        assert repo.count_eligible(program.id, stream_id) == len(repo.get_by_program_and_stream(program.id, stream_id))
    assert repo.count_eligible(program.id, None) == 3


def test_claiming_the_most_urgent_takes_exactly_that_many_earliest_class_first(app):
    """On PostgreSQL a plain `IN (… LIMIT n FOR UPDATE SKIP LOCKED)` can run once per updated row
    and claim far more than n; the claim chooses its rows once."""
    from tests.factories import add_notifications

    course = make_course(make_program("CS", streams=()))
    profiles = make_students(course.program, 30)
    later = make_session(course, starts_in=timedelta(hours=2))
    sooner = make_session(course, starts_in=timedelta(minutes=5))  # created after, starts first
    add_notifications(later, profiles, status="pending")
    add_notifications(sooner, profiles, status="pending")
    repo = EmailNotificationRepository()
    claimed = repo.claim_most_urgent(10, datetime.now(timezone.utc), "x@example.edu")
    db.session.commit()
    rows = db.session.scalars(select(EmailNotification).where(EmailNotification.status == "sending")).all()
    assert len(claimed) == 10 and {row.id for row in rows} == set(claimed)
    assert {row.session_id for row in rows} == {sooner.id}
