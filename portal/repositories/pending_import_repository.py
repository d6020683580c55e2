from datetime import datetime

from sqlalchemy import delete, select

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
