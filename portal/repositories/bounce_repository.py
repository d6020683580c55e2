"""Bounce reports: the email a return-path token names, the reports already recorded, the
students whose address bounces, and how far the bounce mailbox has been read."""
from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import BounceMailbox, DeliveryAttempt, EmailNotification, NotificationStatus, StudentProfile, User


def bouncing():
    """The condition of a student whose current address is the one reported undeliverable."""
    return and_(StudentProfile.bounced_email.is_not(None),
                func.lower(StudentProfile.bounced_email) == func.lower(User.email))


class BounceRepository:
    def by_token(self, token: str) -> EmailNotification | None:
        """The email with this bounce token, with its student and their account."""
        return db.session.scalar(
            select(EmailNotification).where(EmailNotification.bounce_token == token)
            .options(joinedload(EmailNotification.student_profile).joinedload(StudentProfile.user)))

    def report_recorded(self, report_id: str) -> bool:
        return db.session.scalar(select(DeliveryAttempt.id).where(DeliveryAttempt.report_id == report_id)) is not None

    def mark_bounced(self, notification_id: int, address: str, reason: str, now) -> bool:
        """The email becomes `bounced` if it still stands as sent to `address` (its student's address
        still), in one statement: an admin's retry, a session change, or a corrected address (and
        the email sent again to it) committed meanwhile is not overwritten. Whether it did."""
        return db.session.execute(
            update(EmailNotification)
            .where(EmailNotification.id == notification_id, EmailNotification.status == NotificationStatus.SENT,
                   _still_addressed(EmailNotification.student_profile_id, address))
            .values(status=NotificationStatus.BOUNCED, last_error=reason, updated_at=now)
            .execution_options(synchronize_session=False)).rowcount == 1

    def flag_address(self, profile_id: int, address: str, reason: str, now) -> bool:
        """The student's address is flagged as bouncing if it is still `address`, in one statement: an
        address corrected meanwhile is not flagged. Whether it was."""
        return db.session.execute(
            update(StudentProfile).where(StudentProfile.id == profile_id, _still_addressed(StudentProfile.id, address))
            .values(bounced_email=address, bounced_at=now, bounce_reason=reason)
            .execution_options(synchronize_session=False)).rowcount == 1

    def mailbox(self, account: str) -> BounceMailbox | None:
        return db.session.scalar(select(BounceMailbox).where(BounceMailbox.account == account))

    def count_bouncing(self) -> int:
        return db.session.scalar(select(func.count()).select_from(StudentProfile)
                                 .join(User, User.id == StudentProfile.user_id).where(bouncing()))


def _still_addressed(profile_id, address: str):
    """The condition that the student `profile_id` (a column of the statement, or a value) still has
    `address` as their email."""
    return (select(User.id).where(User.id == StudentProfile.user_id, StudentProfile.id == profile_id,
                                  func.lower(User.email) == address.lower()).exists())
