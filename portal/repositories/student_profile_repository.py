from sqlalchemy import Row, func, select

from portal.extensions import db
from portal.models import StudentProfile, User


class StudentProfileRepository:
    def get_by_program_and_stream(
        self, program_id: int, stream_id: int | None, active_only: bool = True
    ) -> list[Row]:
        """Eligible students as light rows (`student_profile_id`): no ORM objects for 10,000 students."""
        query = (
            select(StudentProfile.id.label("student_profile_id"))
            .join(User, User.id == StudentProfile.user_id)
            .where(StudentProfile.program_id == program_id)
        )
        if stream_id is not None:
            query = query.where(StudentProfile.stream_id == stream_id)
        if active_only:
            query = query.where(StudentProfile.is_active.is_(True), User.is_active.is_(True))
        return list(db.session.execute(query.order_by(StudentProfile.id)))

    def count_eligible(self, program_id: int, stream_id: int | None) -> int:
        query = (
            select(func.count())
            .select_from(StudentProfile)
            .join(User, User.id == StudentProfile.user_id)
            .where(StudentProfile.program_id == program_id, StudentProfile.is_active.is_(True),
                   User.is_active.is_(True))
        )
        if stream_id is not None:
            query = query.where(StudentProfile.stream_id == stream_id)
        return db.session.scalar(query)
