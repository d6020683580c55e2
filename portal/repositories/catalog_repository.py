from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models import Course, Program, Stream


class CatalogRepository:
    """Programs (with their streams) and courses, as the pages and forms list them."""

    def programs(self) -> list[Program]:
        return list(db.session.scalars(select(Program).options(selectinload(Program.streams)).order_by(Program.code)))

    def courses(self) -> list[Course]:
        return list(db.session.scalars(select(Course).options(selectinload(Course.program))
                                       .order_by(Course.course_code)))

    def offered(self, course_id: int | None = None, program_id: int | None = None) -> tuple[list[Course], list[Program]]:
        """The active courses and programs, and the given ones even if inactive (a session keeps its own)."""
        courses = db.session.scalars(select(Course).where(or_(Course.is_active, Course.id == course_id))
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
