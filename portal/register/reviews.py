"""The lecturer's decision on a confirmation flagged for review: made without the student's
card ("Can't scan?"), or let in on the phone's reported error ("position uncertain").

Accepting keeps it as present; rejecting means it no longer counts, but the record stays,
with its evidence and who decided when. A decision can be changed; the latest stands.
"""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import audit
from portal.attendance.position import uncertainty_words
from portal.database import utcnow
from portal.exceptions import SessionCancelledError, ValidationError
from portal.extensions import db
from portal.languages import N_, english
from portal.models import AttendanceRecord, CardCheck, Review, User
from portal.repositories.attendance_repository import AttendanceRepository

CANCELLED = _l("This session was cancelled: its confirmations are kept as they were, and cannot be reviewed.")


def reasons(card_check: str, position_uncertain: bool, distance_m: float | None, accuracy_m: float | None,
            say=english) -> str:
    """Why a confirmation is flagged: 'card not scanned; position uncertain (44 m ± 35 m)', or ''
    (`say`: gettext for a page; English for the CSV)."""
    why = [say(N_("card not scanned"))] if card_check == CardCheck.NOT_SCANNED else []
    if position_uncertain:
        why.append(uncertainty_words(distance_m, accuracy_m, say))
    return "; ".join(why)


def review(session_id: int, record_id: int, decision: str, reviewer: User) -> AttendanceRecord | None:
    """Record the decision (committed; every decision in the audit log, the record keeps the
    latest). None if the session has no such record."""
    record = AttendanceRepository().record_in(session_id, record_id)
    if record is None:
        return None
    if record.session.cancelled:
        raise SessionCancelledError(CANCELLED)
    if not record.reviewable:
        raise ValidationError(_("Only a confirmation flagged for review (made without the card, or with the "
                                "position uncertain) can be accepted or rejected."))
    if decision not in set(Review):
        raise ValidationError(_("Choose accept or reject."))
    _decide(record, Review(decision), reviewer)
    db.session.commit()
    return record


def accept_all(session_id: int, record_ids: list[int], reviewer: User) -> int:
    """Accept the listed confirmations (those the lecturer was shown) that still await a
    decision; one decided meanwhile, or not flagged, is left as it is. Committed; how many."""
    records = [record for record in AttendanceRepository().records_in(session_id, record_ids) if record.needs_review]
    if records and records[0].session.cancelled:
        raise SessionCancelledError(CANCELLED)
    for record in records:
        _decide(record, Review.ACCEPTED, reviewer)
    db.session.commit()
    return len(records)


def _decide(record: AttendanceRecord, decision: Review, reviewer: User) -> None:
    before = str(record.review) if record.review else "not reviewed"
    record.review, record.reviewed_by_id, record.reviewed_at = decision, reviewer.id, utcnow()
    student = record.student_profile
    why = reasons(record.card_check, record.position_uncertain, record.distance_m, record.accuracy_m)
    audit.record(reviewer, "attendance.review", f"{student.student_number} ({student.user.full_name}) in "
                 f"{audit.session_label(record.session)}", f"{why}: {before} → {decision}")
