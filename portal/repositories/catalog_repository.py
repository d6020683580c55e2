from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models import Course, Program, Role, Stream, TeachingAssignment, User


class CatalogRepository:
    """Programs (with their streams) and courses, as the pages and forms list them."""

    def programs(self) -> list[Program]:
        return list(db.session.scalars(select(Program).options(selectinload(Program.streams)).order_by(Program.code)))

    def courses(self) -> list[Course]:
        return list(db.session.scalars(select(Course).options(selectinload(Course.program))
                                       .order_by(Course.course_code)))

    def offered(self, course_id: int | None = None, program_id: int | None = None,
                teacher_id: int | None = None) -> tuple[list[Course], list[Program]]:
        """The active courses (those `teacher_id` teaches, when given) and programs, and the given
        ones even if inactive or not taught (a session keeps its own)."""
        offered = Course.is_active
        if teacher_id is not None:
            offered &= Course.id.in_(select(TeachingAssignment.course_id).where(TeachingAssignment.user_id == teacher_id))
        courses = db.session.scalars(select(Course).where(or_(offered, Course.id == course_id))
                                     .order_by(Course.course_code))
        programs = db.session.scalars(select(Program).where(or_(Program.is_active, Program.id == program_id))
                                      .order_by(Program.code))
        return list(courses), list(programs)

    def program_by_code(self, code: str) -> Program | None:
        return db.session.scalar(select(Program).where(Program.code == code))

    def course_by_code(self, code: str) -> Course | None:
        return db.session.scalar(select(Course).where(Course.course_code == code))

    def stream_named(self, program_id: int, name: str) -> Stream | None:
        return db.session.scalar(select(Stream).where(Stream.program_id == program_id, Stream.name == name))

    def program_code_taken(self, code: str, by_other_than: int | None = None) -> bool:
        return db.session.scalar(select(Program.id).where(Program.code == code, Program.id != by_other_than)
                                 .limit(1)) is not None

    def course_code_taken(self, code: str, by_other_than: int | None = None) -> bool:
        return db.session.scalar(select(Course.id).where(Course.course_code == code, Course.id != by_other_than)
                                 .limit(1)) is not None

    # --- who teaches what -------------------------------------------------------------------

    def teaches(self, user_id: int, course_id: int) -> bool:
        return self.assignment(course_id, user_id) is not None

    def assignment(self, course_id: int, user_id: int) -> TeachingAssignment | None:
        return db.session.scalar(select(TeachingAssignment).where(
            TeachingAssignment.course_id == course_id, TeachingAssignment.user_id == user_id))

    def taught_by(self, user_id: int) -> set[int]:
        """The ids of the courses the user is assigned to teach."""
        return set(db.session.scalars(select(TeachingAssignment.course_id).where(TeachingAssignment.user_id == user_id)))

    def lecturers_of(self, course_id: int) -> list[User]:
        return list(db.session.scalars(
            select(User).join(TeachingAssignment, TeachingAssignment.user_id == User.id)
            .where(TeachingAssignment.course_id == course_id).order_by(User.last_name, User.first_name)))

    def lecturer_names(self) -> dict[int, list[str]]:
        """Course id → the full names of its lecturers (for the courses list)."""
        rows = db.session.execute(
            select(TeachingAssignment.course_id, User.first_name, User.last_name)
            .join(User, User.id == TeachingAssignment.user_id).order_by(User.last_name, User.first_name))
        names: dict[int, list[str]] = {}
        for course_id, first, last in rows:
            names.setdefault(course_id, []).append(f"{first} {last}")
        return names

    def assignable(self, keep: set[int] = frozenset()) -> list[User]:
        """Active lecturers, and the users in `keep` (assigned already) whatever they are now."""
        return list(db.session.scalars(select(User).where(or_(
            (User.role == Role.LECTURER) & User.is_active, User.id.in_(keep or [0])))
            .order_by(User.last_name, User.first_name)))

    def add_assignment(self, assignment: TeachingAssignment) -> None:
        db.session.add(assignment)

    def remove_assignment(self, assignment: TeachingAssignment) -> None:
        db.session.delete(assignment)
