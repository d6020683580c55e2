"""The course register: every student of a course by every session, with a status in each cell
(the rule of register/statuses.py), each student's attendance rate, and those below
REGISTER_LOW_ATTENDANCE picked out. Built from three queries, whatever the size of the course."""
import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from portal.database import utcnow
from portal.models import AttendanceSession
from portal.register.attendance_report import spreadsheet_safe
from portal.register.statuses import StatusRule, tally
from portal.repositories.register_repository import RegisterRepository
from portal.timefmt import local_date, local_time

NOT_ON_LIST = "not_on_list"  # a cell for a session the student was not emailed about


@dataclass
class RegisterRow:
    id: int
    student_number: str
    first_name: str
    last_name: str
    email: str
    stream: str | None
    cells: list = field(default_factory=list)  # per session: an AttendanceStatus, None (not yet) or NOT_ON_LIST
    rate: float | None = None  # attended / counted (excused and not-yet left out); None when none count
    attended: int = 0
    counted: int = 0
    low: bool = False


@dataclass
class CourseRegister:
    sessions: list[AttendanceSession]
    students: list[RegisterRow]
    low_percent: int

    @property
    def low_count(self) -> int:
        return sum(1 for row in self.students if row.low)


def build_register(course_id: int, rule: StatusRule, low_percent: int, *, stream_id: int | None = None,
                   starts_from: datetime | None = None, starts_before: datetime | None = None,
                   now: datetime | None = None) -> CourseRegister:
    now = now or utcnow()
    repository = RegisterRepository()
    sessions = repository.sessions(course_id, stream_id, starts_from, starts_before)
    ids = [session.id for session in sessions]
    students = [RegisterRow(*row) for row in repository.students(ids, stream_id)] if ids else []
    by_id = {row.id: row for row in students}
    for row in students:
        row.cells = [NOT_ON_LIST] * len(sessions)
    windows = {session.id: (n, session.starts_at, session.ends_at) for n, session in enumerate(sessions)}
    status = rule.status
    for session_id, student_id, recorded_at, review, mark in repository.cells(ids) if students else []:
        row = by_id.get(student_id)
        if row is not None:  # None: another stream's student, filtered out
            column, starts_at, ends_at = windows[session_id]
            row.cells[column] = status(starts_at=starts_at, ends_at=ends_at, now=now, confirmed_at=recorded_at,
                                       review=review, mark=mark)
    for row in students:
        row.attended, row.counted = tally(row.cells)  # NOT_ON_LIST is neither
        row.rate = row.attended / row.counted if row.counted else None
        row.low = row.rate is not None and row.rate * 100 < low_percent
    return CourseRegister(sessions, students, low_percent)


def register_csv(register: CourseRegister) -> str:
    """One row per student: who, a column per session (its local date, time and id; "n/a" where the
    student was not on its list, empty where not known yet), then the totals."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["student_number", "first_name", "last_name", "email", "stream"]
                    + [f"{local_date(s.starts_at)} {local_time(s.starts_at)} #{s.id}" for s in register.sessions]
                    + ["attended", "counted", "rate_percent", "below_threshold"])
    for row in register.students:
        writer.writerow([spreadsheet_safe(value) for value in (row.student_number, row.first_name, row.last_name,
                                                               row.email, row.stream or "")]
                        + ["" if cell is None else ("n/a" if cell == NOT_ON_LIST else cell) for cell in row.cells]
                        + [row.attended, row.counted, "" if row.rate is None else f"{row.rate * 100:.1f}",
                           "yes" if row.low else ""])
    return out.getvalue()
