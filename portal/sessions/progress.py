"""Delivery progress of a session, for the page and its JSON endpoint."""
from collections import Counter

from portal.models import EMAIL_STATUSES, AttendanceSession, GenerationStatus, NotificationStatus

STATUSES = [status.value for status in EMAIL_STATUSES]


def progress_of(session: AttendanceSession, counts: Counter) -> dict:
    total = sum(counts[status] for status in EMAIL_STATUSES)  # a register-only session's list is no email
    answered = sum(counts[status] for status in (NotificationStatus.SENT, NotificationStatus.FAILED,
                                                 NotificationStatus.WITHDRAWN, NotificationStatus.BOUNCED))
    generated = session.generation_status in (GenerationStatus.DONE, GenerationStatus.FAILED) or session.cancelled
    finished = generated and answered == total
    if finished:
        percent = 100
    else:
        percent = int(100 * answered / total) if total else 0
    return {
        "session_id": session.id,
        "generation_status": session.generation_status,
        "generation_error": session.generation_error,
        "counts": {status: counts[status] for status in STATUSES},
        "total": total,
        "percent": percent,
        "finished": finished,
        "scheduled": session.scheduled,  # nothing to watch until its sending time (the page polls slowly)
        "cancelled": session.cancelled,
    }
