from sqlalchemy import Row, and_, select
from sqlalchemy.orm import aliased

from portal.extensions import db
from portal.models import AttendanceRecord, EmailNotification, StudentProfile, User


class AttendanceRepository:
    def roster(self, session_id: int) -> list[Row]:
        """Every notified student of a session with their email status and attendance, in one query."""
        reviewer = aliased(User)
        query = (
            select(
                StudentProfile.student_number,
                User.first_name,
                User.last_name,
                User.email,
                EmailNotification.status.label("email_status"),
                EmailNotification.last_error,
                AttendanceRecord.id.label("record_id"),
                AttendanceRecord.recorded_at,
                AttendanceRecord.distance_m,
                AttendanceRecord.ip_address,
                AttendanceRecord.user_agent,
                AttendanceRecord.card_check,
                AttendanceRecord.review,
                AttendanceRecord.reviewed_at,
                reviewer.first_name.label("reviewer_first_name"),
                reviewer.last_name.label("reviewer_last_name"),
            )
            .join(StudentProfile, StudentProfile.id == EmailNotification.student_profile_id)
            .join(User, User.id == StudentProfile.user_id)
            .outerjoin(AttendanceRecord, and_(AttendanceRecord.session_id == EmailNotification.session_id,
                                              AttendanceRecord.student_profile_id == StudentProfile.id))
            .outerjoin(reviewer, reviewer.id == AttendanceRecord.reviewed_by_id)
            .where(EmailNotification.session_id == session_id)
            .order_by(User.last_name, User.first_name, StudentProfile.student_number)
        )
        return list(db.session.execute(query))
