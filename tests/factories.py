"""Test data: the rows a test needs, made in one call, and small readers of what was made.

Every factory commits (as the portal's own services do), so a worker process sees the rows.
Staff get `STAFF_PASSWORD_HASH`, computed once per run with cheap scrypt parameters: a sign-in
checks it in a millisecond instead of the ~80 ms the production parameters cost.
"""
import uuid
from collections import Counter
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import event, select
from werkzeug.security import generate_password_hash

from portal.delivery import queueing
from portal.extensions import db
from portal.models import (
    AttendanceSession,
    Course,
    EmailNotification,
    Program,
    Role,
    Stream,
    StudentProfile,
    TeachingAssignment,
    User,
)
from portal.services.jwt_service import JWTTokenService
from portal.services.notification_generation_service import NotificationGenerationService
from portal.sessions import planning

PASSWORD = "correct horse battery"


@cache
def staff_password_hash(password: str = PASSWORD) -> str:
    """A real scrypt hash of `password`, with parameters a test can afford (n=1024)."""
    return generate_password_hash(password, method="scrypt:1024:8:1")


def make_program(code="CS", streams=("A", "B")) -> Program:
    program = Program(code=code, name=f"Program {code}", streams=[Stream(name=s) for s in streams])
    db.session.add(program)
    db.session.commit()
    return program


def make_course(program: Program, code="CS201", name="Data Structures") -> Course:
    course = Course(course_code=code, course_name=name, program=program)
    db.session.add(course)
    db.session.commit()
    return course


def make_students(program: Program, count: int, stream: Stream | None = None, active=True, prefix=None,
                  email_for=None) -> list[StudentProfile]:
    prefix = prefix or f"{program.code}-{stream.name if stream else 'x'}-{uuid.uuid4().hex[:4]}"
    profiles = []
    for n in range(count):
        email = email_for(n) if email_for else f"{prefix}-{n}@example.edu".lower()
        user = User(email=email, first_name=f"First{n}", last_name="Student", role=Role.STUDENT, is_active=True)
        profiles.append(StudentProfile(user=user, student_number=f"{prefix}-{n}", program=program, stream=stream,
                                       is_active=active))
    db.session.add_all(profiles)
    db.session.commit()
    return profiles


def make_staff(email="lecturer@example.edu", role=Role.LECTURER, password=PASSWORD,
               name=("Lee", "Lecturer")) -> User:
    user = User(email=email, first_name=name[0], last_name=name[1], role=role, is_active=True)
    user.password_hash = staff_password_hash(password)
    db.session.add(user)
    db.session.commit()
    return user


def assign(course: Course, lecturer: User) -> None:
    """The lecturer teaches the course (a teaching assignment)."""
    db.session.add(TeachingAssignment(course_id=course.id, user_id=lecturer.id))
    db.session.commit()


def make_session(course: Course, stream: Stream | None = None, starts_in=timedelta(minutes=5),
                 length=timedelta(hours=1), **fields) -> AttendanceSession:
    starts_at = datetime.now(timezone.utc).replace(microsecond=0) + starts_in
    session = AttendanceSession(course=course, program=course.program, stream=stream, starts_at=starts_at,
                                ends_at=starts_at + length, **fields)
    db.session.add(session)
    db.session.commit()
    return session


def make_notification(session: AttendanceSession, student: StudentProfile, status="pending") -> EmailNotification:
    notification = EmailNotification(session=session, student_profile=student, token=f"tok-{uuid.uuid4().hex}",
                                      token_expires_at=session.starts_at + timedelta(hours=1), status=status,
                                      # where the relay took it, as the delivery writer keeps it
                                      sent_to=student.user.email if status in ("sent", "bounced") else None)
    db.session.add(notification)
    db.session.commit()
    return notification


def add_notifications(session, profiles, status="failed", error="Recipient refused by mail server (550 5.1.1)"):
    """Many notifications in one INSERT (no tokens a link would accept); their ids in order."""
    expires = session.starts_at + timedelta(hours=1)
    now = datetime.now(timezone.utc)
    db.session.execute(
        EmailNotification.__table__.insert(),
        [{"session_id": session.id, "student_profile_id": p.id, "token": f"tok-{session.id}-{p.id}",
          "token_expires_at": expires, "status": status, "attempts": 1, "last_error": error,
          "sent_at": now if status == "sent" else None, "created_at": now, "updated_at": now} for p in profiles],
    )
    db.session.commit()
    return list(db.session.scalars(select(EmailNotification.id).where(EmailNotification.session_id == session.id)
                                   .order_by(EmailNotification.id)))


def create_session(course, stream=None) -> tuple[AttendanceSession, bool]:
    """A session starting in ten minutes, made by the service and queued for generation."""
    starts_at = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=10)
    request = planning.SessionRequest(
        course_id=course.id, program_id=course.program_id, stream_id=stream.id if stream else None,
        lecturer_id=None, starts_at=starts_at, ends_at=starts_at + timedelta(hours=1),
    )
    session = planning.create_session(request)
    return session, queueing.enqueue_generation(session.id, session.starts_at)


def link_for(app, session, profile) -> str:
    """Prepare the session's notifications; the student's link (the token of their email)."""
    NotificationGenerationService(JWTTokenService.from_config(app.config)).generate_notifications_for_session(session.id)
    return db.session.scalar(select(EmailNotification.token).where(
        EmailNotification.session_id == session.id, EmailNotification.student_profile_id == profile.id))


def expired_link(app, session, profile) -> str:
    """A correctly signed link of the student's for the session that expired five minutes ago."""
    expired_at = datetime.now(timezone.utc) - timedelta(minutes=5)
    return JWTTokenService(app.config["JWT_SECRET_KEY"], clock=lambda: expired_at - timedelta(hours=1)
                           ).generate_token(profile.id, session.id, expired_at)


def statuses(session_id=None) -> Counter:
    db.session.expire_all()
    query = select(EmailNotification.status)
    if session_id is not None:
        query = query.where(EmailNotification.session_id == session_id)
    return Counter(db.session.scalars(query))


def emails_of(profiles) -> list[str]:
    return sorted(p.user.email for p in profiles)


def newest_session() -> AttendanceSession | None:
    """The session saved last (fresh from the database)."""
    db.session.expire_all()
    return db.session.scalar(select(AttendanceSession).order_by(AttendanceSession.id.desc()))


@contextmanager
def counting_queries():
    """The SQL statements run inside the block."""
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def tomorrow() -> str:
    return (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%d")


def next_clock_change(zone: str, direction: str, after: date | None = None) -> date:
    """The next day after `after` (default: tomorrow) on which `zone`'s clocks go "forward" or "back",
    so tests of clock changes never depend on the year they run in."""
    day, tz = (after or date.today()) + timedelta(days=1), ZoneInfo(zone)
    for _ in range(400):
        before, after_change = (datetime(day.year, day.month, day.day, hour, tzinfo=tz).utcoffset() for hour in (0, 23))
        if (after_change > before) if direction == "forward" else (after_change < before):
            return day
        day += timedelta(days=1)
    raise AssertionError(f"{zone} has no clock change {direction} within 400 days")
