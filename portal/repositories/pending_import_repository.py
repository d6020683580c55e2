from datetime import datetime

from sqlalchemy import delete, select, update

from portal.extensions import db
from portal.models import PendingImport


class PendingImportRepository:
    """Sync previews waiting for an admin's confirmation."""

    def get_by_token(self, token: str) -> PendingImport | None:
        return db.session.scalar(select(PendingImport).where(PendingImport.token == token))

    def add(self, pending: PendingImport) -> PendingImport:
        db.session.add(pending)
        return pending

    def remove(self, pending: PendingImport) -> None:
        db.session.delete(pending)

    def remove_created_before(self, moment: datetime) -> None:
        db.session.execute(delete(PendingImport).where(PendingImport.created_at < moment))

    def claim(self, token: str, by_id: int, now: datetime, valid_since: datetime) -> bool:
        """Mark the preview applied, if nobody has and it is not too old: True for the one caller
        that did. The statement is the transaction's first write, so two confirmations at once
        are ordered by the database (the second finds it taken)."""
        result = db.session.execute(
            update(PendingImport)
            .where(PendingImport.token == token, PendingImport.applied_at.is_(None),
                   PendingImport.created_at >= valid_since)
            .values(applied_at=now, applied_by_id=by_id)
            .execution_options(synchronize_session=False))
        return result.rowcount == 1
