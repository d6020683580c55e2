from sqlalchemy import Row, Select, func, or_, select
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

    def directory_page(self, text: str, program_id: int | None, stream_id: int | None, active: bool | None,
                       page: int, per_page: int = 50):
        """A page of students by name for the admin directory: `text` matches the name, the
        student number or the email (case-insensitively); the other filters are exact."""
        query = (select(StudentProfile).join(User, User.id == StudentProfile.user_id)
                 .options(selectinload(StudentProfile.user), selectinload(StudentProfile.program),
                          selectinload(StudentProfile.stream))
                 .order_by(User.last_name, User.first_name, StudentProfile.student_number))
        if text:
            pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            full_name = func.lower(User.first_name + " " + User.last_name)
            query = query.where(or_(full_name.like(pattern, escape="\\"),
                                    func.lower(User.last_name + " " + User.first_name).like(pattern, escape="\\"),
                                    func.lower(StudentProfile.student_number).like(pattern, escape="\\"),
                                    func.lower(User.email).like(pattern, escape="\\")))
        if program_id is not None:
            query = query.where(StudentProfile.program_id == program_id)
        if stream_id is not None:
            query = query.where(StudentProfile.stream_id == stream_id)
        if active is not None:
            both = (StudentProfile.is_active.is_(True), User.is_active.is_(True))
            query = query.where(*both) if active else query.where(or_(*(~condition for condition in both)))
        return db.paginate(query, page=page, per_page=per_page, error_out=False)
