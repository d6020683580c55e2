from sqlalchemy import Row, Select, func, insert, or_, select, update
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models import Role, StudentProfile, User
from portal.repositories import bounce_repository


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
                       page: int, per_page: int = 50, bouncing: bool = False):
        """A page of students by name for the admin directory: `text` matches the name, the
        student number or the email (case-insensitively); the other filters are exact;
        `bouncing`: only students whose current address is reported undeliverable."""
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
        if bouncing:
            query = query.where(bounce_repository.bouncing())
        return db.paginate(query, page=page, per_page=per_page, error_out=False)

    def of_program(self, program_id: int) -> list[StudentProfile]:
        """Every student of the program, active or not, in the order they were added."""
        return list(db.session.scalars(select(StudentProfile).where(StudentProfile.program_id == program_id)
                                       .order_by(StudentProfile.id)))

    def card_code_taken(self, code: str, by_other_than: int | None = None) -> bool:
        return db.session.scalar(select(StudentProfile.id).where(
            StudentProfile.card_code == code, StudentProfile.id != by_other_than).limit(1)) is not None

    def card_owners(self) -> dict[str, int]:
        """Every card code and its student's profile id."""
        return dict(db.session.execute(select(StudentProfile.card_code, StudentProfile.id)).all())

    def student_numbers(self) -> set[str]:
        return set(db.session.scalars(select(StudentProfile.student_number)))

    def by_number(self) -> dict[str, StudentProfile]:
        """Every student by student number, with their account, program and stream loaded."""
        return {p.student_number: p for p in db.session.scalars(
            select(StudentProfile).options(selectinload(StudentProfile.user), selectinload(StudentProfile.program),
                                           selectinload(StudentProfile.stream)))}

    def insert_many(self, students: list[dict]) -> None:
        """Two bulk INSERTs (accounts, then their profiles), in the caller's transaction. Core inserts,
        not the ORM's bulk path: that one runs a statement per row whenever consecutive rows differ
        in which values are None (students with and without a stream)."""
        users, profiles = User.__table__, StudentProfile.__table__
        user_ids = db.session.execute(
            insert(users).returning(users.c.id, sort_by_parameter_order=True),
            [{"email": s["email"], "first_name": s["first_name"], "last_name": s["last_name"], "role": Role.STUDENT,
              "is_active": s["active"], "session_version": 0} for s in students],
        ).scalars().all()
        db.session.execute(insert(profiles), [
            {"user_id": user_id, "student_number": s["student_number"],
             "card_code": s["card_code"], "program_id": s["program"].id,
             "stream_id": s["stream"].id if s["stream"] else None, "is_active": s["active"],
             "language": s.get("language")}
            for user_id, s in zip(user_ids, students, strict=True)
        ])

    def update_one(self, user_id: int, profile_id: int, user_values: dict, profile_values: dict) -> None:
        users, profiles = User.__table__, StudentProfile.__table__
        db.session.execute(update(users).where(users.c.id == user_id).values(**user_values))
        db.session.execute(update(profiles).where(profiles.c.id == profile_id).values(**profile_values))

    def deactivate(self, user_ids: list[int], profile_ids: list[int]) -> None:
        users, profiles = User.__table__, StudentProfile.__table__
        db.session.execute(update(profiles).where(profiles.c.id.in_(profile_ids)).values(is_active=False))
        db.session.execute(update(users).where(users.c.id.in_(user_ids)).values(is_active=False))
