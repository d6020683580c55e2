from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import AttendanceSession, GenerationStatus


class SessionRepository:
    def get_by_id(self, session_id: int) -> AttendanceSession | None:
        return db.session.get(AttendanceSession, session_id)

    def add(self, session: AttendanceSession) -> AttendanceSession:
        db.session.add(session)
        return session

    def start_times(self, session_ids: list[int]) -> dict[int, datetime]:
        query = select(AttendanceSession.id, AttendanceSession.starts_at).where(AttendanceSession.id.in_(session_ids))
        return dict(db.session.execute(query).all())

    def ids_awaiting_generation(self) -> list[int]:
        waiting = (GenerationStatus.WAITING, GenerationStatus.QUEUED)
        query = select(AttendanceSession.id).where(AttendanceSession.generation_status.in_(waiting))
        return list(db.session.scalars(query.order_by(AttendanceSession.id)))

    def page(self, lecturer_id: int | None, page: int, per_page: int = 25):
        """Newest first; `lecturer_id` limits to that lecturer's sessions (None: all)."""
        query = (
            select(AttendanceSession)
            .options(
                joinedload(AttendanceSession.course),
                joinedload(AttendanceSession.program),
                joinedload(AttendanceSession.stream),
                joinedload(AttendanceSession.lecturer),
            )
            .order_by(AttendanceSession.starts_at.desc(), AttendanceSession.id.desc())
        )
        if lecturer_id is not None:
            query = query.where(AttendanceSession.lecturer_id == lecturer_id)
        return db.paginate(query, page=page, per_page=per_page, error_out=False)

    def choices(self, lecturer_id: int | None, limit: int = 200) -> list[AttendanceSession]:
        """Recent sessions for a filter drop-down."""
        query = (
            select(AttendanceSession)
            .options(joinedload(AttendanceSession.course))
            .order_by(AttendanceSession.starts_at.desc())
            .limit(limit)
        )
        if lecturer_id is not None:
            query = query.where(AttendanceSession.lecturer_id == lecturer_id)
        return list(db.session.scalars(query))
