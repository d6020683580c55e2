"""One email notification per (session, student): the unit of delivery."""
import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import UTCDateTime, utcnow
from portal.extensions import db
from portal.models.sessions import AttendanceSession
from portal.models.users import StudentProfile


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"  # never to be sent: the session was cancelled, or the student is no longer in it
    NOT_EMAILED = "not_emailed"  # on a register-only session's list: no email, no link (marked by hand)
    BOUNCED = "bounced"  # the relay took it, then the student's mail server reported it undeliverable (portal.bounces)


# The statuses of an email (a register-only session's list is not one).
EMAIL_STATUSES = tuple(status for status in NotificationStatus if status != NotificationStatus.NOT_EMAILED)


def new_bounce_token() -> str:
    """The opaque id in an email's return path (MAIL_RETURN_PATH): 80 random bits, lower-case hex,
    because some mail servers change the case of an address's local part. Never the link's token."""
    return secrets.token_hex(10)


class EmailKind(StrEnum):
    """What the row's next (or last) email says. A row is one student's mail about one session."""

    INVITATION = "invitation"  # the seed's email with the attendance link
    CHANGED = "changed"  # the session moved: the new time or place, and a new link
    CANCELLED = "cancelled"  # the session will not take place


class EmailNotification(db.Model):
    __tablename__ = "email_notifications"
    __table_args__ = (
        UniqueConstraint("session_id", "student_profile_id"),
        Index("ix_email_notifications_session_status", "session_id", "status"),
        # Pages walk this index: a session's notifications in order, or all, newest first.
        Index("ix_email_notifications_session_id_id", "session_id", "id"),
        Index("ix_email_notifications_status_updated", "status", "updated_at"),
        # The retry poller looks for pending rows that have just become due.
        Index("ix_email_notifications_status_next_attempt", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("attendance_sessions.id", ondelete="CASCADE"))
    student_profile_id: Mapped[int] = mapped_column(ForeignKey("student_profiles.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(Text)
    token_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default=NotificationStatus.PENDING)
    kind: Mapped[str] = mapped_column(String(16), default=EmailKind.INVITATION, server_default=EmailKind.INVITATION)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the email is first claimed and reused by every later attempt, so mail
    # clients can tell a re-sent copy is the same email.
    message_id: Mapped[str | None] = mapped_column(String(255))
    # When this email should be out, if not when its session starts: an admin's bulk retry gives way to
    # every class starting within BULK_RETRY_GIVES_WAY (see EmailNotificationRepository.claim_most_urgent).
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who a bounce report is about: the `{token}` of MAIL_RETURN_PATH, the address late bounces come back to.
    bounce_token: Mapped[str | None] = mapped_column(String(32), unique=True, default=new_bounce_token)
    # The relay of its latest try (DeliveryAttempt.relay), kept by the delivery writer with the history so
    # that /metrics counts emails by status and relay without reading the whole history at each scrape.
    last_relay: Mapped[str | None] = mapped_column(String(64))
    # The address the relay last accepted it for: a late bounce about another address (the student's
    # before an admin corrected it, say) is about an earlier send, not this one (portal.bounces).
    sent_to: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    session: Mapped[AttendanceSession] = relationship()
    student_profile: Mapped[StudentProfile] = relationship()
    attempts_log: Mapped[list["DeliveryAttempt"]] = relationship(
        order_by="DeliveryAttempt.id", viewonly=True)


class DeliveryAttempt(db.Model):
    """One try at sending one email, with what the relay answered (or the error)."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("email_notifications.id", ondelete="CASCADE"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(32))
    smtp_code: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text)
    relay: Mapped[str | None] = mapped_column(String(64))  # the name of the relay tried (see MAIL_RELAYS_FILE)
    # A bounce report's own id (its Message-ID, or a digest of it), on the rows a report wrote
    # (outcome "bounced" or "delayed"): the same report read twice is recorded once.
    report_id: Mapped[str | None] = mapped_column(String(255), unique=True)


class BounceMailbox(db.Model):
    """How far the portal has read a bounce mailbox (BOUNCE_IMAP_URL): IMAP UIDs only grow within
    one UIDVALIDITY, so a message is read once, and a new UIDVALIDITY starts the reading over."""

    __tablename__ = "bounce_mailboxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(255), unique=True)  # user@host:port/folder, no secret
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
