"""The one rule for a student's attendance in a session, used by the attendance view, the
course register and their CSVs.

    a mark set by hand                      that mark (the newest one stands)
    a link confirmation, not rejected       present; `late` if it came more than
                                            ATTENDANCE_LATE_AFTER_MINUTES after the start
    neither, once the session has ended     absent
    neither, before the end                 None: not known yet

A cancelled session has no attendance. For the attendance rate, present and late count as
attended and an excused session is left out of the count, as most university regulations do.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from portal.models import AttendanceStatus as Status
from portal.models import Review

ATTENDED = frozenset({Status.PRESENT, Status.LATE})


@dataclass(frozen=True)
class StatusRule:
    late_after_minutes: int | None  # None: a confirmation is never late

    @classmethod
    def from_config(cls, config) -> "StatusRule":
        return cls(config["ATTENDANCE_LATE_AFTER_MINUTES"])

    def status(self, *, starts_at: datetime, ends_at: datetime, now: datetime, confirmed_at: datetime | None = None,
               review: str | None = None, mark: str | None = None) -> Status | None:
        if mark:
            return Status(mark)
        if confirmed_at is not None and review != Review.REJECTED:
            if self.late_after_minutes is not None and confirmed_at > starts_at + timedelta(
                    minutes=self.late_after_minutes):
                return Status.LATE
            return Status.PRESENT
        if now >= ends_at:
            return Status.ABSENT
        return None

    def of_roster_row(self, session, row, now: datetime) -> Status | None:
        """The status of a row of AttendanceRepository.roster (None throughout a cancelled session)."""
        if session.cancelled:
            return None
        return self.status(starts_at=session.starts_at, ends_at=session.ends_at, now=now,
                           confirmed_at=row.recorded_at, review=row.review, mark=row.mark)


def tally(statuses) -> tuple[int, int]:
    """(attended, counted) over a student's sessions: present and late are attended; excused
    and not-yet-known sessions are not counted. (The attendance rate is attended / counted.)"""
    attended = counted = 0
    for status in statuses:
        if status in ATTENDED:
            attended += 1
            counted += 1
        elif status == Status.ABSENT:
            counted += 1
    return attended, counted
