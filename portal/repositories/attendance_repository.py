from sqlalchemy import Row, and_, func, select
from sqlalchemy.orm import aliased

from portal.extensions import db
from portal.models import AttendanceMark, AttendanceRecord, EmailNotification, NotificationStatus, StudentProfile, User


class AttendanceRepository:
    def record_of(self, session_id: int, student_id: int) -> AttendanceRecord | None:
        """The student's link confirmation for the session, if any."""
        return db.session.scalar(select(AttendanceRecord).where(
            AttendanceRecord.session_id == session_id, AttendanceRecord.student_profile_id == student_id))

    def confirmed_students(self, session_id: int) -> set[int]:
        """The ids of the students with a confirmation recorded for the session."""
        query = select(AttendanceRecord.student_profile_id).where(AttendanceRecord.session_id == session_id)
        return set(db.session.scalars(query))

    def record_in(self, session_id: int, record_id: int) -> AttendanceRecord | None:
        """A confirmation, if it belongs to this session."""
        return db.session.scalar(select(AttendanceRecord).where(
            AttendanceRecord.id == record_id, AttendanceRecord.session_id == session_id))

    def records_in(self, session_id: int, record_ids: list[int]) -> list[AttendanceRecord]:
        """The confirmations with these ids that belong to this session."""
        if not record_ids:
            return []
        return list(db.session.scalars(select(AttendanceRecord).where(
            AttendanceRecord.id.in_(record_ids), AttendanceRecord.session_id == session_id)))

    def roster(self, session_id: int) -> list[Row]:
        """Every student on a session's list (notified, not withdrawn) with their email status,
        their link confirmation and their newest hand mark, in one query."""
        reviewer, marker = aliased(User), aliased(User)
        newest = self.newest_marks([session_id])
        query = (
            select(
                StudentProfile.id.label("student_id"),
                StudentProfile.student_number,
                User.first_name,
                User.last_name,
                User.email,
                EmailNotification.status.label("email_status"),
                EmailNotification.last_error,
                AttendanceRecord.id.label("record_id"),
                AttendanceRecord.recorded_at,
                AttendanceRecord.distance_m,
                AttendanceRecord.accuracy_m,
                AttendanceRecord.position_uncertain,
                AttendanceRecord.ip_address,
                AttendanceRecord.user_agent,
                AttendanceRecord.card_check,
                AttendanceRecord.review,
                AttendanceRecord.reviewed_at,
                reviewer.first_name.label("reviewer_first_name"),
                reviewer.last_name.label("reviewer_last_name"),
                AttendanceMark.status.label("mark"),
                AttendanceMark.note.label("mark_note"),
                AttendanceMark.marked_at,
                marker.first_name.label("marker_first_name"),
                marker.last_name.label("marker_last_name"),
            )
            .join(StudentProfile, StudentProfile.id == EmailNotification.student_profile_id)
            .join(User, User.id == StudentProfile.user_id)
            .outerjoin(AttendanceRecord, and_(AttendanceRecord.session_id == EmailNotification.session_id,
                                              AttendanceRecord.student_profile_id == StudentProfile.id))
            .outerjoin(reviewer, reviewer.id == AttendanceRecord.reviewed_by_id)
            .outerjoin(newest, and_(newest.c.session_id == EmailNotification.session_id,
                                    newest.c.student_profile_id == StudentProfile.id))
            .outerjoin(AttendanceMark, AttendanceMark.id == newest.c.mark_id)
            .outerjoin(marker, marker.id == AttendanceMark.marked_by_id)
            .where(EmailNotification.session_id == session_id,
                   EmailNotification.status != NotificationStatus.WITHDRAWN)
            .order_by(User.last_name, User.first_name, StudentProfile.student_number)
        )
        return list(db.session.execute(query))

    def mark_history(self, session_id: int) -> list[Row]:
        """Every hand mark of a session, oldest first, with who made it."""
        query = (
            select(AttendanceMark.student_profile_id.label("student_id"), AttendanceMark.status,
                   AttendanceMark.previous_status, AttendanceMark.note, AttendanceMark.marked_at,
                   User.first_name.label("marker_first_name"), User.last_name.label("marker_last_name"))
            .join(User, User.id == AttendanceMark.marked_by_id)
            .where(AttendanceMark.session_id == session_id)
            .order_by(AttendanceMark.id)
        )
        return list(db.session.execute(query))

    def add_marks(self, marks: list[AttendanceMark]) -> None:
        db.session.add_all(marks)

    @staticmethod
    def newest_marks(session_ids):
        """(session_id, student_profile_id, mark_id) of the newest mark of each student."""
        return (
            select(AttendanceMark.session_id, AttendanceMark.student_profile_id,
                   func.max(AttendanceMark.id).label("mark_id"))
            .where(AttendanceMark.session_id.in_(session_ids))
            .group_by(AttendanceMark.session_id, AttendanceMark.student_profile_id)
            .subquery()
        )
