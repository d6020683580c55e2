"""Attendance set by hand: the lecturer marks a student whose phone died, excuses an absence,
or corrects a status. Each change is a new AttendanceMark with who, when and the status the
register showed before, so the history is complete and a link confirmation's evidence stays."""
from portal import audit
from portal.database import utcnow
from portal.exceptions import SessionCancelledError, ValidationError
from portal.extensions import db
from portal.models import AttendanceMark, AttendanceSession, AttendanceStatus, User
from portal.names import control_problem, max_length
from portal.register.statuses import StatusRule
from portal.repositories.attendance_repository import AttendanceRepository

NOTE_LIMIT = max_length(AttendanceMark.note)


def set_status(session: AttendanceSession, student_ids: list[int], status: str, note: str, by: User,
               rule: StatusRule) -> int:
    """Mark the given students of the session (committed, all or none). Returns how many
    changed: a student already showing that status with that note gets no new history line."""
    problems = {}
    if status not in set(AttendanceStatus):
        problems["status"] = "Choose present, late, excused or absent."
    note = (note or "").strip()
    if len(note) > NOTE_LIMIT:
        problems["note"] = f"The note must be at most {NOTE_LIMIT} characters."
    elif problem := control_problem("The note", note):
        problems["note"] = problem + "."
    if not student_ids:
        problems["student_id"] = "Choose at least one student."
    if problems:
        raise ValidationError(problems)
    if session.cancelled:
        raise SessionCancelledError("This session was cancelled: it has no attendance to mark.")

    repository = AttendanceRepository()
    roster = {row.student_id: row for row in repository.roster(session.id)}
    unknown = set(student_ids) - roster.keys()
    if unknown:
        raise ValidationError({"student_id": f"{len(unknown)} of the chosen students are not on this session's list."})
    now = utcnow()
    marks = []
    for student_id in dict.fromkeys(student_ids):  # once each, in the order given
        row = roster[student_id]
        current = rule.of_roster_row(session, row, now)
        if current == status and (row.mark_note or "") == note and row.mark:
            continue
        marks.append(AttendanceMark(session_id=session.id, student_profile_id=student_id, status=status,
                                    previous_status=current, note=note or None, marked_by_id=by.id, marked_at=now))
    repository.add_marks(marks)
    if marks:
        names = ", ".join(f"{roster[m.student_profile_id].first_name} {roster[m.student_profile_id].last_name}"
                          for m in marks)
        audit.record(by, "attendance.mark", audit.session_label(session),
                     f"{len(marks)} marked {status}: {names}" + (f" (note: {note})" if note else ""))
    db.session.commit()
    return len(marks)
