"""What admins (and lecturers, for their sessions) did: one row per action, kept in the database."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import UTCDateTime, utcnow
from portal.extensions import db
from portal.models.users import User


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_action_id", "action", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)  # None: the command line
    action: Mapped[str] = mapped_column(String(40))  # e.g. "students.sync", "attendance.mark"
    subject: Mapped[str] = mapped_column(String(200))  # what it was done to, in words
    details: Mapped[str | None] = mapped_column(Text)

    actor: Mapped[User | None] = relationship()
