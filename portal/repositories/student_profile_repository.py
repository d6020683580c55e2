from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models import StudentProfile, User


def _eligible(query: Select, program_id: int, stream_id: int | None, active_only: bool = True) -> Select:
    """Who a session of the program (and stream) is for: the one statement of that rule.
    `query` must already join User."""
    query = query.where(StudentProfile.program_id == program_id)
    if stream_id is not None:
        query = query.where(StudentProfile.stream_id == stream_id)
    if active_only:
        query = query.where(StudentProfile.is_active.is_(True), User.is_active.is_(True))
    return query


class StudentProfileRepository:
    def get_by_program_and_stream(
        self, program_id: int, stream_id: int | None, active_only: bool = True
    ) -> list[Row]:
        """Eligible students as light rows (`student_profile_id`): no ORM objects for 10,000 students."""
        query = select(StudentProfile.id.label("student_profile_id")).join(User, User.id == StudentProfile.user_id)
        return list(db.session.execute(_eligible(query, program_id, stream_id, active_only)
                                       .order_by(StudentProfile.id)))

    def count_eligible(self, program_id: int, stream_id: int | None) -> int:
        query = select(func.count()).select_from(StudentProfile).join(User, User.id == StudentProfile.user_id)
        return db.session.scalar(_eligible(query, program_id, stream_id))

    def eligible_by_name(self, program_id: int) -> list[StudentProfile]:
        """The program's eligible students with their user and stream loaded, by name (the card sheet)."""
        query = (select(StudentProfile).join(User, User.id == StudentProfile.user_id)
                 .options(selectinload(StudentProfile.user), selectinload(StudentProfile.stream))
                 .order_by(User.last_name, User.first_name, StudentProfile.student_number))
        return list(db.session.scalars(_eligible(query, program_id, None)))
