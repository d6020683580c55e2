"""Academic structure: programs, their streams, and courses. None is ever deleted: one no longer
taught is deactivated, so its sessions and their attendance stay, and new sessions cannot use it."""
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import UTCDateTime, utcnow
from portal.extensions import db


class Program(db.Model):
    __tablename__ = "programs"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    streams: Mapped[list["Stream"]] = relationship(back_populates="program", order_by="Stream.name")


class Stream(db.Model):
    __tablename__ = "streams"
    __table_args__ = (UniqueConstraint("program_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    program: Mapped[Program] = relationship(back_populates="streams")


class Course(db.Model):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_code: Mapped[str] = mapped_column(String(32), unique=True)
    course_name: Mapped[str] = mapped_column(String(200))
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    program: Mapped[Program] = relationship()


class TeachingAssignment(db.Model):
    """A lecturer teaches a course: they create its sessions and see its register. Admins
    assign them (the course's page, or `assign-lecturer`); removing one keeps their sessions."""

    __tablename__ = "teaching_assignments"
    __table_args__ = (UniqueConstraint("course_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
