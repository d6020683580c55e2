"""Changing and cancelling a session after it was saved, and what its students are told.

Each student's mail about a session is one notification row; a change decides, row by
row, what that row's next email is (`kind`) and whether its link still stands. A link
stands only while it is the row's current `token` and the row is not `withdrawn` (see
AttendanceService), so re-issuing a link or withdrawing a row ends the old one at once.

- Before its emails are prepared, a session is simply saved again.
- Changing the time, the place or the course after emails went out gives every student
  a new link: those already emailed get a short "Session changed" email with it, and the
  others get the first email, with the new details.
- Changing the program or stream adds the newly eligible students (their first email)
  and withdraws the rest: nothing more is sent to them and their links stop working.
- Cancelling withdraws every email not yet sent; with `notify_students`, those already
  emailed get a short cancellation email. Nothing is deleted.

Every change commits in one transaction; the caller then queues the emails now pending.
"""
import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from portal import audit, link_window
from portal.database import utcnow
from portal.exceptions import ChangedMeanwhileError, NotScheduledError, SessionCancelledError, ValidationError
from portal.extensions import db
from portal.models import (
    AttendanceSession,
    Course,
    EmailKind,
    EmailNotification,
    NotificationStatus,
    Program,
    Stream,
    User,
)
from portal.repositories import EmailNotificationRepository, SessionRepository, StudentProfileRepository, get
from portal.repositories.attendance_repository import AttendanceRepository
from portal.services.jwt_service import JWTTokenService
from portal.sessions.planning import SessionRequest, list_students, notify_time, validate
from portal.timefmt import local_datetime

# What the students were told: changing one of these after emails went out re-issues the links.
TOLD = ("course_id", "starts_at", "ends_at", "latitude", "longitude", "radius_m", "room")
WHO = ("program_id", "stream_id")
EDITABLE = TOLD + WHO + ("require_id_scan", "notify_minutes_before")

Status = NotificationStatus


@dataclass
class ChangeSummary:
    """What a change did, for the flash message and the tests."""

    changed: list[str] = field(default_factory=list)  # the fields that changed
    added: int = 0  # newly eligible students, to get their first email
    withdrawn: int = 0  # students taken off (or emails not sent, when cancelling)
    reissued: int = 0  # students who get a "Session changed" (or cancellation) email
    kept: int = 0  # students already emailed who were not told of a change (their links stand)
    pending: list[int] = field(default_factory=list)  # rows to queue now
    # Their send jobs' own ids: a batch of the same rows may still be running (its stale
    # messages are dropped), and a job is not queued again while one of its id runs.
    job_suffix: str = ""


CANCELLED = "This session was cancelled; it cannot be changed."


def ensure_changeable(session: AttendanceSession) -> None:
    """SessionCancelledError for a cancelled session: it is kept as it was cancelled."""
    if session.cancelled:
        raise SessionCancelledError(CANCELLED)


def fingerprint(session: AttendanceSession) -> str:
    """What an edit form saw of the session: its editable fields, as they were."""
    seen = "|".join(repr(getattr(session, name)) for name in EDITABLE)
    return hashlib.sha256(seen.encode()).hexdigest()[:32]


def edit_session(session: AttendanceSession, request: SessionRequest, by: User | None = None,
                 seen: str | None = None, notify_students: bool = True) -> ChangeSummary:
    """Apply the request's fields to the session and settle its students' emails (committed;
    the change, each field before and after, in the audit log). `seen`: the fingerprint the
    edit form was shown with; ChangedMeanwhileError if the session has changed since.
    `notify_students` False: a change of course, time or place emails nobody, and the links
    already emailed stand (with the expiry they were given)."""
    ensure_changeable(session)
    if seen is not None and seen != fingerprint(session):
        raise ChangedMeanwhileError(_("This session was changed while you were editing it (by someone else, or in "
                                      "another tab). Here it is as it is now: review it and save again."))
    errors = validate(request, current=session)
    if errors:
        raise ValidationError(errors)
    summary = ChangeSummary(changed=[name for name in EDITABLE if _differs(getattr(session, name),
                                                                            getattr(request, name))])
    if summary.changed:
        told = ""
        if session.generated_at is not None and set(summary.changed) & set(TOLD):
            told = "; students told by email" if notify_students else "; students not told"
        audit.record(by, "session.edit", audit.session_label(session), "; ".join(
            f"{name.removesuffix('_id').replace('_', ' ')}: {_words(name, getattr(session, name))} → "
            f"{_words(name, getattr(request, name))}" for name in summary.changed) + told)
    for name in EDITABLE:
        setattr(session, name, getattr(request, name))
    if session.generated_at is None:  # no email prepared yet: the new settings are all there is
        if "notify_minutes_before" in summary.changed or "starts_at" in summary.changed:
            session.notify_at = notify_time(session.starts_at, session.notify_minutes_before)
    elif summary.changed:
        _settle(session, summary, reissue=bool(set(summary.changed) & set(TOLD)), notify=notify_students)
        session.changed_at = utcnow()
        summary.job_suffix = f"-changed{int(session.changed_at.timestamp() * 1000)}"
    _commit_over(session)
    return summary


def _commit_over(session: AttendanceSession) -> None:
    """Commit a change made on the session as it was read; ChangedMeanwhileError (nothing saved)
    if another edit, or the preparation of its emails, was saved in between."""
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise ChangedMeanwhileError(_("This session was changed while you were editing it (its emails were being "
                                      "prepared, or someone else saved it). Here it is as it is now: review it and "
                                      "save again.")) from None


def cancel_sessions(sessions: list[AttendanceSession], by: User, notify_students: bool) -> ChangeSummary:
    """Cancel the sessions (one, or the rest of a series), all in one commit. Emails not yet
    sent are withdrawn; with `notify_students`, every student already emailed (or being
    emailed) gets a cancellation email. Sessions already cancelled are left as they are."""
    now = utcnow()
    summary = ChangeSummary(changed=["cancelled"], job_suffix=f"-cancelled{int(now.timestamp() * 1000)}")
    for session in sessions:
        if session.cancelled:
            continue
        session.cancelled_at, session.cancelled_by_id = now, by.id
        for row in _rows(session):
            emailed = row.status in (Status.SENT, Status.SENDING)
            if notify_students and emailed:
                _send_again(row, EmailKind.CANCELLED, now, "The session was cancelled: a cancellation email goes out")
                summary.reissued += 1
                summary.pending.append(row.id)
            elif row.status in (Status.PENDING, Status.SENDING, Status.FAILED, Status.BOUNCED):
                _withdraw(row, now, "Not sent: the session was cancelled")
                summary.withdrawn += 1
        audit.record(by, "session.cancel", audit.session_label(session),
                     "students told by email" if notify_students else "students not told")
    db.session.commit()
    return summary


def send_now(session: AttendanceSession, by: User | None = None) -> None:
    """A scheduled session's emails go out now (committed, audited; the caller queues the
    generation). SessionCancelledError, or NotScheduledError if its emails are not waiting."""
    ensure_changeable(session)
    if not session.scheduled:
        raise NotScheduledError("This session's emails are not waiting for a sending time.")
    audit.record(by, "session.send_now", audit.session_label(session),
                 f"emails sent now instead of at {local_datetime(session.notify_at)}")
    session.notify_at, session.notify_minutes_before = utcnow(), None
    db.session.commit()


def rest_of_series(session: AttendanceSession) -> list[AttendanceSession]:
    """This session and its series' later ones that are not cancelled (just this one outside a series)."""
    if not session.series_id:
        return [session]
    return [s for s in SessionRepository().series(session.series_id)
            if s.starts_at >= session.starts_at and not s.cancelled]


def _settle(session: AttendanceSession, summary: ChangeSummary, reissue: bool, notify: bool = True) -> None:
    """Bring the session's rows in line with who is eligible now, and re-issue links if asked
    (without `notify`, only the links not yet emailed: those emailed stand, and nobody is told)."""
    now = utcnow()
    expires_at = link_window.expires(session.starts_at, session.ends_at)
    eligible = {student.student_profile_id for student in StudentProfileRepository().get_by_program_and_stream(
        session.program_id, session.stream_id, active_only=True)}
    rows = {row.student_profile_id: row for row in _rows(session)}
    if session.register_only:  # no emails, no links: only who is on the list changes
        _settle_list(session, summary, eligible, rows, now)
        return
    confirmed = AttendanceRepository().confirmed_students(session.id)  # never emailed again
    jwt = JWTTokenService.from_config(current_app.config)

    for student_id, row in rows.items():
        if student_id not in eligible:
            if row.status != Status.WITHDRAWN:
                _withdraw(row, now, "Not sent: the student is no longer in this session's program or stream")
                summary.withdrawn += 1
            continue
        returning = row.status == Status.WITHDRAWN  # taken off by an earlier change, eligible again
        if student_id in confirmed:  # their link is used: nothing to send, but back on the list
            if returning:
                row.status, row.last_error, row.updated_at = Status.SENT, "Back on the list (already confirmed)", now
            continue
        if not reissue and not returning:
            continue
        if not notify and not returning and row.status in (Status.SENT, Status.SENDING):
            summary.kept += 1
            continue
        row.token = jwt.generate_token(student_id, session.id, expires_at)
        row.token_expires_at = expires_at
        if row.status in (Status.SENT, Status.SENDING):
            _send_again(row, EmailKind.CHANGED, now, "The session changed: an email with the new link goes out")
            summary.reissued += 1
        else:  # never reached the student: the first email, with the new details
            row.kind = EmailKind.INVITATION
            _make_pending(row, now, None)
            summary.added += returning
        summary.pending.append(row.id)

    new = sorted(eligible - rows.keys())
    if new:
        tokens = jwt.generate_tokens(new, session.id, expires_at)
        EmailNotificationRepository().bulk_create([
            {"session_id": session.id, "student_profile_id": student_id, "token": token,
             "token_expires_at": expires_at} for student_id, token in zip(new, tokens, strict=True)])
        summary.added += len(new)
        summary.pending += [row.id for row in EmailNotificationRepository().for_session(session.id, new)]


def _settle_list(session: AttendanceSession, summary: ChangeSummary, eligible: set[int],
                 rows: dict[int, EmailNotification], now) -> None:
    """A register-only session's list follows its program and stream; nobody is emailed."""
    for student_id, row in rows.items():
        if student_id not in eligible and row.status != Status.WITHDRAWN:
            _withdraw(row, now, "Taken off: the student is no longer in this session's program or stream")
            summary.withdrawn += 1
        elif student_id in eligible and row.status == Status.WITHDRAWN:
            row.status, row.last_error, row.updated_at = Status.NOT_EMAILED, None, now
            summary.added += 1
    summary.added += list_students(session, sorted(eligible - rows.keys()))


def _rows(session: AttendanceSession) -> list[EmailNotification]:
    return EmailNotificationRepository().for_session(session.id)


def _send_again(row: EmailNotification, kind: EmailKind, now, reason: str) -> None:
    """A new email for a student who had one: a fresh Message-ID (it is not a copy of the last)."""
    row.kind = kind
    row.message_id = None
    _make_pending(row, now, reason)


def _make_pending(row: EmailNotification, now, reason: str | None) -> None:
    """Due at once, as urgent as its session (an earlier admin's retry no longer holds it back)."""
    row.status, row.attempts, row.next_attempt_at, row.sent_at = Status.PENDING, 0, None, None
    row.last_error, row.updated_at, row.deadline = reason, now, None


def _withdraw(row: EmailNotification, now, reason: str) -> None:
    row.status, row.next_attempt_at, row.last_error, row.updated_at = Status.WITHDRAWN, None, reason, now


def _words(field: str, value) -> str:
    """A field's value as the audit log says it."""
    if value is None or value == "":
        return "all streams" if field == "stream_id" else "—"
    if field == "course_id":
        return getattr(get(Course, value), "course_code", str(value))
    if field == "program_id":
        return getattr(get(Program, value), "code", str(value))
    if field == "stream_id":
        return getattr(get(Stream, value), "name", str(value))
    if isinstance(value, datetime):
        return local_datetime(value)
    return str(value)


def _differs(old, new) -> bool:
    if hasattr(old, "astimezone") and hasattr(new, "astimezone"):
        return old.astimezone(new.tzinfo) != new
    return old != new
