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

    def mark_bounced(self, notification_id: int, sent_to: str, reason: str, now) -> bool:
        """The email becomes `bounced` if it still stands as sent to `sent_to`, in one statement: an
        admin's retry, a session change, or the email sent again to a corrected address, committed
        meanwhile, is not overwritten. Whether it did."""
        return db.session.execute(
            update(EmailNotification)
            .where(EmailNotification.id == notification_id, EmailNotification.status == NotificationStatus.SENT,
                   func.lower(EmailNotification.sent_to) == sent_to.lower())
            .values(status=NotificationStatus.BOUNCED, last_error=reason, updated_at=now)
            .execution_options(synchronize_session=False)).rowcount == 1

    def flag_address(self, profile_id: int, address: str, reason: str, now) -> bool:
        """The student's address is flagged as bouncing if it is still `address`, in one statement: an
        address corrected meanwhile is not flagged. Whether it was."""
        still_theirs = (select(User.id).where(User.id == StudentProfile.user_id,
                                              func.lower(User.email) == address.lower()).exists())
        return db.session.execute(
            update(StudentProfile).where(StudentProfile.id == profile_id, still_theirs)
            .values(bounced_email=address, bounced_at=now, bounce_reason=reason)
            .execution_options(synchronize_session=False)).rowcount == 1

    def mailbox(self, account: str) -> BounceMailbox | None:
        return db.session.scalar(select(BounceMailbox).where(BounceMailbox.account == account))

    def count_bouncing(self) -> int:
        return db.session.scalar(select(func.count()).select_from(StudentProfile)
                                 .join(User, User.id == StudentProfile.user_id).where(bouncing()))
