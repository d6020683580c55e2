from sqlalchemy import select

from portal.extensions import db
from portal.models import AttendanceSession, GenerationStatus


class SessionRepository:
    def get_by_id(self, session_id: int) -> AttendanceSession | None:
        return db.session.get(AttendanceSession, session_id)

    def add(self, session: AttendanceSession) -> AttendanceSession:
        db.session.add(session)
        return session

    def ids_awaiting_generation(self) -> list[int]:
        waiting = (GenerationStatus.WAITING, GenerationStatus.QUEUED)
        query = select(AttendanceSession.id).where(AttendanceSession.generation_status.in_(waiting))
        return list(db.session.scalars(query.order_by(AttendanceSession.id)))
