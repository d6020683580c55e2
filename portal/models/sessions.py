"""An attendance session: one lecture whose students get an attendance link."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship, synonym

from portal.database import UTCDateTime, utcnow
from portal.extensions import db
from portal.models.academic import Course, Program, Stream
from portal.models.users import User

DEFAULT_RADIUS_METRES = 30


class GenerationStatus(StrEnum):
    WAITING = "waiting"  # saved; generation job not yet known to be queued
    QUEUED = "queued"
    DONE = "done"
    FAILED = "failed"  # will not be retried (e.g. the window had already closed)


class AttendanceSession(db.Model):
    __tablename__ = "attendance_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), index=True)
    stream_id: Mapped[int | None] = mapped_column(ForeignKey("streams.id"))
    lecturer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    radius_m: Mapped[int] = mapped_column(Integer, default=DEFAULT_RADIUS_METRES)
    require_id_scan: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # No emails and no links: the class is marked by hand (one without email, or one that already happened).
    register_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    room: Mapped[str | None] = mapped_column(String(100))  # where the class meets, as students know it
    generation_status: Mapped[str] = mapped_column(String(16), default=GenerationStatus.WAITING, index=True)
    generation_error: Mapped[str | None] = mapped_column(Text)
    generated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the emails go out: None is "as soon as it is saved"; otherwise `notify_minutes_before`
    # the start (kept so that moving the session moves its sending time too).
    notify_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    notify_minutes_before: Mapped[int | None] = mapped_column(Integer)
    # A weekly series shares the id of its first session (which has it too); None: a single session.
    series_id: Mapped[int | None] = mapped_column(Integer, index=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last edit after emails had gone out
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Raised by every change written through the ORM, which writes only over the version it read:
    # an edit and the generation of its emails (or two edits) can never interleave, the later
    # one fails with StaleDataError and starts again from the session as it now is.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1", nullable=False)

    __mapper_args__ = {"version_id_col": version}

    # The seed's names for the session window.
    time_created = synonym("starts_at")
    time_ended = synonym("ends_at")

    course: Mapped[Course] = relationship()
    program: Mapped[Program] = relationship()
    stream: Mapped[Stream | None] = relationship()
    lecturer: Mapped[User | None] = relationship(foreign_keys=[lecturer_id])
    cancelled_by: Mapped[User | None] = relationship(foreign_keys=[cancelled_by_id])

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def scheduled(self) -> bool:
        """Saved, with its emails waiting for their sending time."""
        return (self.notify_at is not None and self.notify_at > utcnow() and not self.cancelled
                and self.generation_status == GenerationStatus.WAITING)
