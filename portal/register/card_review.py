"""The lecturer's decision on a confirmation made without the student's card ("Can't scan?").

Accepting keeps it as present; rejecting means it no longer counts, but the record stays,
with its evidence and who decided when. A decision can be changed; the latest stands.
"""

from portal import audit
from portal.database import utcnow
from portal.exceptions import ValidationError
from portal.extensions import db
from portal.models import AttendanceRecord, CardCheck, Review, User
from portal.repositories.attendance_repository import AttendanceRepository


def review(session_id: int, record_id: int, decision: str, reviewer: User) -> AttendanceRecord | None:
    """Record the decision (committed; every decision in the audit log, the record keeps the
    latest). None if the session has no such record."""
    record = AttendanceRepository().record_in(session_id, record_id)
    if record is None:
        return None
    if record.card_check != CardCheck.NOT_SCANNED:
        raise ValidationError("Only a confirmation made without the student's card can be accepted or rejected.")
    if decision not in set(Review):
        raise ValidationError("Choose accept or reject.")
    before = str(record.review) if record.review else "not reviewed"
    record.review, record.reviewed_by_id, record.reviewed_at = Review(decision), reviewer.id, utcnow()
    student = record.student_profile
    audit.record(reviewer, "attendance.review", f"{student.student_number} ({student.user.full_name}) in "
                 f"{audit.session_label(record.session)}", f"confirmation without the card: {before} → {decision}")
    db.session.commit()
    return record
