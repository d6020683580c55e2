from datetime import datetime

from sqlalchemy import Row, func, or_, select, update
from sqlalchemy.orm import joinedload

from portal.database import utcnow
from portal.extensions import db
from portal.models import AttendanceSession, Course, GenerationStatus


class SessionRepository:
    def get_by_id(self, session_id: int) -> AttendanceSession | None:
        return db.session.get(AttendanceSession, session_id)

    def add(self, session: AttendanceSession) -> AttendanceSession:
        db.session.add(session)
        return session

    def start_times(self, session_ids: list[int]) -> dict[int, datetime]:
        query = select(AttendanceSession.id, AttendanceSession.starts_at).where(AttendanceSession.id.in_(session_ids))
        return dict(db.session.execute(query).all())

    def ids_awaiting_generation(self, now: datetime, scheduled_only: bool = False) -> list[int]:
        """Sessions whose emails should be prepared by now and are not yet: not cancelled, to be
        sent at once or at a time that has come. `scheduled_only`: those whose sending time has
        come and that are not queued yet (the upkeep's every-second look)."""
        due = AttendanceSession.notify_at <= now
        if scheduled_only:
            query = select(AttendanceSession.id).where(
                AttendanceSession.generation_status == GenerationStatus.WAITING, due)
        else:
            query = select(AttendanceSession.id).where(
                AttendanceSession.generation_status.in_((GenerationStatus.WAITING, GenerationStatus.QUEUED)),
                or_(AttendanceSession.notify_at.is_(None), due))
        query = query.where(AttendanceSession.cancelled_at.is_(None))
        return list(db.session.scalars(query.order_by(AttendanceSession.id)))

    def awaiting_emails(self, until: datetime) -> list[Row]:
        """Sessions whose emails are still to be made, to be sent before `until`: (session_id,
        course_code, starts_at, notify_at, program_id, stream_id). Not cancelled, not register-only."""
        query = (
            select(AttendanceSession.id.label("session_id"), Course.course_code, AttendanceSession.starts_at,
                   AttendanceSession.notify_at, AttendanceSession.program_id, AttendanceSession.stream_id)
            .join(Course, Course.id == AttendanceSession.course_id)
            .where(AttendanceSession.generation_status.in_((GenerationStatus.WAITING, GenerationStatus.QUEUED)),
                   AttendanceSession.cancelled_at.is_(None), AttendanceSession.register_only.is_(False),
                   or_(AttendanceSession.notify_at.is_(None), AttendanceSession.notify_at < until))
            .order_by(AttendanceSession.starts_at, AttendanceSession.id)
        )
        return list(db.session.execute(query).all())

    def mark_queued(self, session_id: int) -> None:
        """Its generation job is on the queue (only a session still `waiting` changes)."""
        db.session.execute(
            update(AttendanceSession)
            .where(AttendanceSession.id == session_id, AttendanceSession.generation_status == GenerationStatus.WAITING)
            .values(generation_status=GenerationStatus.QUEUED))

    def series(self, series_id: int) -> list[AttendanceSession]:
        query = select(AttendanceSession).where(AttendanceSession.series_id == series_id)
        return list(db.session.scalars(query.order_by(AttendanceSession.starts_at)))

    def page(self, lecturer_id: int | None, page: int, per_page: int = 25, *, course_id: int | None = None,
             starts_from: datetime | None = None, starts_before: datetime | None = None, state: str | None = None,
             now: datetime | None = None):
        """A page of sessions, newest first, a weekly series as one entry (placed by its last
        session); `lecturer_id` limits to that lecturer's sessions (None: all). Filters: the
        course, the start between `starts_from` and `starts_before`, and `state` ("upcoming":
        not ended, "past": ended, "cancelled"; the first two leave cancelled sessions out).

        Returns the pagination (its items are entry keys) and the entries: each a list of
        sessions by start, one for a single session, every week of a series that matches. Two queries."""
        key = func.coalesce(AttendanceSession.series_id, AttendanceSession.id)
        now = now or utcnow()
        where = [AttendanceSession.lecturer_id == lecturer_id] if lecturer_id is not None else []
        if course_id is not None:
            where.append(AttendanceSession.course_id == course_id)
        if starts_from is not None:
            where.append(AttendanceSession.starts_at >= starts_from)
        if starts_before is not None:
            where.append(AttendanceSession.starts_at < starts_before)
        if state == "cancelled":
            where.append(AttendanceSession.cancelled_at.is_not(None))
        elif state in ("upcoming", "past"):
            where.append(AttendanceSession.cancelled_at.is_(None))
            where.append(AttendanceSession.ends_at >= now if state == "upcoming" else AttendanceSession.ends_at < now)
        keys = (select(key).where(*where).group_by(key)
                .order_by(func.max(AttendanceSession.starts_at).desc(), key.desc()))
        pagination = db.paginate(keys, page=page, per_page=per_page, error_out=False)
        sessions = db.session.scalars(
            select(AttendanceSession)
            .options(
                joinedload(AttendanceSession.course),
                joinedload(AttendanceSession.program),
                joinedload(AttendanceSession.stream),
                joinedload(AttendanceSession.lecturer),
            )
            .where(key.in_(pagination.items), *where)
            .order_by(AttendanceSession.starts_at, AttendanceSession.id)
        )
        entries = {entry: [] for entry in pagination.items}
        for session in sessions:
            entries[session.series_id or session.id].append(session)
        return pagination, list(entries.values())

    def course_ids_of(self, lecturer_id: int) -> set[int]:
        """The courses the lecturer has sessions of."""
        return set(db.session.scalars(select(AttendanceSession.course_id).where(
            AttendanceSession.lecturer_id == lecturer_id).distinct()))

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
