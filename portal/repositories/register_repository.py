"""What the course register reads: a course's sessions, the students on their lists, and one
cell per (session, student). Three queries whatever the size of the course."""
from datetime import datetime

from sqlalchemy import Row, and_, or_, select

from portal.extensions import db
from portal.models import (
    AttendanceMark,
    AttendanceRecord,
    AttendanceSession,
    EmailNotification,
    NotificationStatus,
    StudentProfile,
    User,
)
from portal.models.academic import Stream
from portal.repositories.attendance_repository import AttendanceRepository


class RegisterRepository:
    def sessions(self, course_id: int, stream_id: int | None, starts_from: datetime | None,
                 starts_before: datetime | None) -> list[AttendanceSession]:
        """The course's sessions that took or will take place, by start; with a stream, those for
        that stream or for the whole program."""
        query = select(AttendanceSession).where(AttendanceSession.course_id == course_id,
                                                AttendanceSession.cancelled_at.is_(None))
        if stream_id is not None:
            query = query.where(or_(AttendanceSession.stream_id.is_(None), AttendanceSession.stream_id == stream_id))
        if starts_from is not None:
            query = query.where(AttendanceSession.starts_at >= starts_from)
        if starts_before is not None:
            query = query.where(AttendanceSession.starts_at < starts_before)
        return list(db.session.scalars(query.order_by(AttendanceSession.starts_at, AttendanceSession.id)))

    def students(self, session_ids: list[int], stream_id: int | None) -> list[Row]:
        """Everyone on the list of any of these sessions (withdrawn students are not), by name."""
        on_a_list = (select(EmailNotification.student_profile_id)
                     .where(EmailNotification.session_id.in_(session_ids),
                            EmailNotification.status != NotificationStatus.WITHDRAWN))
        query = (
            select(StudentProfile.id, StudentProfile.student_number, User.first_name, User.last_name, User.email,
                   Stream.name.label("stream"))
            .join(User, User.id == StudentProfile.user_id)
            .outerjoin(Stream, Stream.id == StudentProfile.stream_id)
            .where(StudentProfile.id.in_(on_a_list))
            .order_by(User.last_name, User.first_name, StudentProfile.student_number)
        )
        if stream_id is not None:
            query = query.where(StudentProfile.stream_id == stream_id)
        return list(db.session.execute(query))

    def cells(self, session_ids: list[int]) -> list[Row]:
        """(session_id, student_id, recorded_at, review, mark) for every student on each list."""
        newest = AttendanceRepository.newest_marks(session_ids)
        query = (
            select(EmailNotification.session_id, EmailNotification.student_profile_id.label("student_id"),
                   AttendanceRecord.recorded_at, AttendanceRecord.review, AttendanceMark.status.label("mark"))
            .outerjoin(AttendanceRecord, and_(AttendanceRecord.session_id == EmailNotification.session_id,
                                              AttendanceRecord.student_profile_id == EmailNotification.student_profile_id))
            .outerjoin(newest, and_(newest.c.session_id == EmailNotification.session_id,
                                    newest.c.student_profile_id == EmailNotification.student_profile_id))
            .outerjoin(AttendanceMark, AttendanceMark.id == newest.c.mark_id)
            .where(EmailNotification.session_id.in_(session_ids),
                   EmailNotification.status != NotificationStatus.WITHDRAWN)
        )
        return db.session.connection().execute(query).all()  # Core rows: 20,000 of them at 500 × 40
