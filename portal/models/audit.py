"""What admins (and lecturers, for their sessions) did, one row per action; and sync files awaiting confirmation."""
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import UTCDateTime, utcnow
from portal.extensions import db
from portal.models.users import User


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_action_id", "action", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)  # None: see actor_label
    # Who, when no person did it: "the portal" for what it did by itself; None (with no actor): the command line.
    actor_label: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))  # e.g. "students.sync", "attendance.mark"
    subject: Mapped[str] = mapped_column(String(200))  # what it was done to, in words
    details: Mapped[str | None] = mapped_column(Text)

    actor: Mapped[User | None] = relationship()


class PendingImport(db.Model):
    """A sync file an admin has previewed and not yet confirmed (or cancelled). Kept in the
    database so that the confirmation reaches it whichever web process answers; old ones are
    cleared when the next preview is made."""

    __tablename__ = "pending_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    deactivate_missing: Mapped[bool] = mapped_column(Boolean, default=False)
    csv_text: Mapped[str] = mapped_column(Text)
    # Set in the transaction that applies it: a second confirmation finds it taken (one apply per preview).
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    applied_by: Mapped[User | None] = relationship(foreign_keys=[applied_by_id])
