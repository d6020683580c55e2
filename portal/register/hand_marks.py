"""Attendance set by hand: the lecturer marks a student whose phone died, excuses an absence,
or corrects a status. Each change is a new AttendanceMark with who, when and the status the
register showed before, so the history is complete and a link confirmation's evidence stays."""
from flask_babel import gettext as _

from portal import audit
from portal.database import utcnow
from portal.exceptions import MarkedMeanwhileError, SessionCancelledError, ValidationError
from portal.extensions import db
from portal.models import AttendanceMark, AttendanceSession, AttendanceStatus, User
from portal.names import control_problem, max_length
from portal.register.statuses import StatusRule
from portal.repositories.attendance_repository import AttendanceRepository
from portal.timefmt import local_time

NOTE_LIMIT = max_length(AttendanceMark.note)


def set_status(session: AttendanceSession, student_ids: list[int], status: str, note: str, by: User,
               rule: StatusRule, shown: dict[int, str] | None = None, override: bool = False) -> int:
    """Mark the given students of the session with one status (committed, all or none). Returns
    how many changed: see `set_statuses`."""
    if not student_ids:
        raise ValidationError({"student_id": _("Choose at least one student.")})
    return set_statuses(session, {student_id: (status, note) for student_id in student_ids}, by, rule, shown,
                        override)


def set_statuses(session: AttendanceSession, changes: dict[int, tuple[str, str]], by: User, rule: StatusRule,
                 shown: dict[int, str] | None = None, override: bool = False) -> int:
    """Set each student's (status, note), in one commit, all or none. Returns how many changed: a
    student already showing that status with that note gets no new history line. `shown`: the
    status the lecturer's page showed for each student; if one has changed since (the student
    confirmed, someone else marked them), nothing is marked and MarkedMeanwhileError says who,
    unless `override`."""
    problems = {}
    if any(status not in set(AttendanceStatus) for status, _note in changes.values()):
        problems["status"] = _("Choose present, late, excused or absent.")
    notes = {student_id: (note or "").strip() for student_id, (_status, note) in changes.items()}
    for note in notes.values():
        if len(note) > NOTE_LIMIT:
            problems["note"] = _("The note must be at most %(limit)s characters.", limit=NOTE_LIMIT)
        elif problem := control_problem(_("The note"), note):
            problems["note"] = problem + "."
    if problems:
        raise ValidationError(problems)
    if session.cancelled:
        raise SessionCancelledError("This session was cancelled: it has no attendance to mark.")

    repository = AttendanceRepository()
    roster = {row.student_id: row for row in repository.roster(session.id)}
    unknown = changes.keys() - roster.keys()
    if unknown:
        raise ValidationError({"student_id": f"{len(unknown)} of the chosen students are not on this session's list."})
    now = utcnow()
    current_of = {student_id: rule.of_roster_row(session, roster[student_id], now) for student_id in changes}
    moved = [student_id for student_id, current in current_of.items()
             if shown and student_id in shown and shown[student_id] != (current or "")]
    if moved and not override:
        raise MarkedMeanwhileError(" ".join(_moved_words(roster[s], shown[s], current_of[s]) for s in moved))
    marks = []
    for student_id, current in current_of.items():  # once each, in the order given
        row, (status, _note), note = roster[student_id], changes[student_id], notes[student_id]
        if current == status and (row.mark_note or "") == note and row.mark:
            continue
        marks.append(AttendanceMark(session_id=session.id, student_profile_id=student_id, status=status,
                                    previous_status=current, note=note or None, marked_by_id=by.id, marked_at=now))
    repository.add_marks(marks)
    if marks:
        audit.record(by, "attendance.mark", audit.session_label(session), _marked_words(marks, roster))
    db.session.commit()
    return len(marks)


def _marked_words(marks: list[AttendanceMark], roster: dict) -> str:
    """'2 marked present: Ann Abe, Ben Bay; 1 marked excused: Cat Cole (note: Medical)'."""
    by_status: dict[str, list[str]] = {}
    for mark in marks:
        row = roster[mark.student_profile_id]
        by_status.setdefault(mark.status, []).append(
            f"{row.first_name} {row.last_name}" + (f" (note: {mark.note})" if mark.note else ""))
    return "; ".join(f"{len(names)} marked {status}: {', '.join(names)}" for status, names in by_status.items())


def _moved_words(row, shown: str, current: str) -> str:
    name = f"{row.first_name} {row.last_name}"
    if row.recorded_at and not row.mark and current in (AttendanceStatus.PRESENT, AttendanceStatus.LATE):
        return f"{name} confirmed at {local_time(row.recorded_at)} while you were marking; look again."
    return f"{name} is now {current or 'without a status'}, not {shown or 'without a status'}, since the page " \
           "was shown; look again."
