"""What is waiting to be sent, and when it should be out: for the queue page and the banner.

The estimate is plain arithmetic at the current pace (the emails sent over the last
PACE_WINDOW), taking sessions earliest class first as the workers do. While delivery is
paused, or before anything has been sent lately, there is no pace and so no estimate.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from portal.database import utcnow
from portal.repositories import EmailNotificationRepository

PACE_WINDOW = timedelta(minutes=1)


@dataclass
class Waiting:
    session_id: int
    course_code: str
    starts_at: datetime
    emails: int
    done_by: datetime | None  # when its last email should leave, at the current pace


@dataclass
class Backlog:
    emails: int  # pending or being sent, across every session
    pace: float  # emails a second over the last PACE_WINDOW (0: none sent lately)
    sessions: list[Waiting]


def backlog(paused: bool, now: datetime | None = None) -> Backlog:
    now = now or utcnow()
    repository = EmailNotificationRepository()
    rows = repository.waiting_by_session()
    pace = repository.sent_since(now - PACE_WINDOW) / PACE_WINDOW.total_seconds()
    sessions, ahead = [], 0
    for row in rows:
        ahead += row.waiting
        done_by = now + timedelta(seconds=ahead / pace) if pace and not paused else None
        sessions.append(Waiting(row.session_id, row.course_code, row.starts_at, row.waiting, done_by))
    return Backlog(ahead, pace, sessions)
