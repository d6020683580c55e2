"""People: staff accounts and students (a user with a student profile)."""
from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.database import UTCDateTime
from portal.extensions import db
from portal.models.academic import Program, Stream


class Role(StrEnum):
    ADMIN = "admin"
    LECTURER = "lecturer"
    STUDENT = "student"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.STUDENT)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of the id in every session cookie (see get_id): raising it ends every session
    # signed in before, server-side, even a copied cookie.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    # The language a staff member chose on /account (one of PORTAL_LANGUAGES); None: the browser's.
    # (A student's is on their profile: StudentProfile.language.)
    language: Mapped[str | None] = mapped_column(String(16))

    student_profile: Mapped["StudentProfile | None"] = relationship(back_populates="user")

    def get_id(self) -> str:
        """What Flask-Login keeps in the session cookie: `<id>.<session_version>`."""
        return f"{self.id}.{self.session_version or 0}"

    def end_sessions(self) -> None:
        """Sign out everywhere: cookies issued before this no longer load the user."""
        self.session_version = (self.session_version or 0) + 1

    def set_password(self, password: str) -> None:
        if self.password_hash:
            self.end_sessions()  # a new password locks out whoever had the old one
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def _student_number(context) -> str:
    return context.get_current_parameters()["student_number"]


class StudentProfile(db.Model):
    __tablename__ = "student_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    student_number: Mapped[str] = mapped_column(String(32), unique=True)
    # What the QR code on the student's card holds (see portal/students/card_codes.py); the student
    # number unless an import or a reissued card says otherwise.
    card_code: Mapped[str] = mapped_column(String(128), unique=True, default=_student_number)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), index=True)
    stream_id: Mapped[int | None] = mapped_column(ForeignKey("streams.id"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The language the student reads the portal in (one of PORTAL_LANGUAGES); None: PORTAL_DEFAULT_LANGUAGE.
    language: Mapped[str | None] = mapped_column(String(16))
    # The address a mail server reported undeliverable for good (portal.bounces), when and why. The
    # student is "bouncing" while it is still their address: changing the email ends it, wherever
    # it is changed (the directory, an import, a sync).
    bounced_email: Mapped[str | None] = mapped_column(String(254))
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bounce_reason: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship(back_populates="student_profile")
    program: Mapped[Program] = relationship()
    stream: Mapped[Stream | None] = relationship()

    @property
    def email_bouncing(self) -> bool:
        """Mail to the student's address is reported undeliverable, and the address has not changed since."""
        return bool(self.bounced_email) and self.bounced_email.lower() == self.user.email.lower()
