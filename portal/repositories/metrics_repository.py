"""The grouped counts /metrics reports (portal.metrics.numbers), one query each."""
from datetime import datetime

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AttendanceRecord, DeliveryAttempt, EmailNotification


class MetricsRepository:
    def emails_by_status_and_relay(self) -> list[tuple[str, str | None, int]]:
        """(status, relay of the email's latest try or None, how many)."""
        return list(db.session.execute(
            select(EmailNotification.status, EmailNotification.last_relay, func.count())
            .group_by(EmailNotification.status, EmailNotification.last_relay)))

    def replies_by_relay_and_outcome(self) -> list[tuple[str | None, str, int]]:
        return list(db.session.execute(select(DeliveryAttempt.relay, DeliveryAttempt.outcome, func.count())
                                       .group_by(DeliveryAttempt.relay, DeliveryAttempt.outcome)))

    def oldest_created(self, statuses) -> datetime | None:
        return db.session.scalar(select(func.min(EmailNotification.created_at))
                                 .where(EmailNotification.status.in_(statuses)))

    def confirmations_by_uncertainty(self) -> dict[bool, int]:
        return dict(db.session.execute(select(AttendanceRecord.position_uncertain, func.count())
                                       .group_by(AttendanceRecord.position_uncertain)).all())
