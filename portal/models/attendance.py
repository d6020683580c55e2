"""A confirmed attendance; unique per (session, student), which makes a link single-use."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import UTCDateTime, utcnow
from portal.extensions import db
from portal.models.sessions import AttendanceSession
from portal.models.users import StudentProfile, User


class CardCheck(StrEnum):
    """How the student's card was checked when they confirmed."""

    SCANNED = "scanned"  # the phone read their card's QR code and it matched
    NOT_SCANNED = "not_scanned"  # the session asked for a scan; they chose "Can't scan?" (flagged)
    NOT_REQUIRED = "not_required"


class Review(StrEnum):
    """The lecturer's decision on a confirmation flagged for review: made without the card, or
    let in on the phone's reported error (position uncertain)."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"  # no longer counts as present; the record stays, with who decided


class AttendanceRecord(db.Model):
    __tablename__ = "attendance_records"
    __table_args__ = (UniqueConstraint("session_id", "student_profile_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("attendance_sessions.id", ondelete="CASCADE"))
    student_profile_id: Mapped[int] = mapped_column(ForeignKey("student_profiles.id", ondelete="CASCADE"), index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)  # the phone's own 95% radius, as it reported it
    # Recorded on the benefit of the doubt (portal.attendance.position): for the lecturer to review.
    position_uncertain: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(400))
    card_check: Mapped[str] = mapped_column(String(16), default=CardCheck.NOT_REQUIRED,
                                            server_default=CardCheck.NOT_REQUIRED.value)
    review: Mapped[str | None] = mapped_column(String(16))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    session: Mapped[AttendanceSession] = relationship()
    student_profile: Mapped[StudentProfile] = relationship()
    reviewed_by: Mapped[User | None] = relationship()

    @property
    def counts_as_present(self) -> bool:
        return self.review != Review.REJECTED

    @property
    def reviewable(self) -> bool:
        """Flagged for the lecturer: made without the card, or with the position uncertain."""
        return self.card_check == CardCheck.NOT_SCANNED or self.position_uncertain

    @property
    def needs_review(self) -> bool:
        return self.reviewable and self.review is None


class AttendanceStatus(StrEnum):
    """A student's attendance in one session, as the register shows it (see portal/register/statuses.py)."""

    PRESENT = "present"
    LATE = "late"
    EXCUSED = "excused"
    ABSENT = "absent"


class AttendanceMark(db.Model):
    """A status set by hand (by the session's lecturer or an admin). Marks are only ever added:
    the newest one for a student stands, the older ones are its history, and a link
    confirmation's evidence (AttendanceRecord) is never touched by them."""

    __tablename__ = "attendance_marks"
    __table_args__ = (Index("ix_attendance_marks_session_student", "session_id", "student_profile_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("attendance_sessions.id", ondelete="CASCADE"))
    student_profile_id: Mapped[int] = mapped_column(ForeignKey("student_profiles.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    previous_status: Mapped[str | None] = mapped_column(String(16))  # what the register showed just before
    note: Mapped[str | None] = mapped_column(String(500))
    marked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    marked_by: Mapped[User] = relationship()
