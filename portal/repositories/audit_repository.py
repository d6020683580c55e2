from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models import AuditEvent, User


class AuditRepository:
    """The audit trail's events, and who recorded them."""

    def add(self, event: AuditEvent) -> AuditEvent:
        db.session.add(event)
        return event

    def actors(self) -> list[User]:
        """Everyone who has an entry, by name."""
        return list(db.session.scalars(select(User).where(User.id.in_(select(AuditEvent.actor_id).distinct()))
                                       .order_by(User.last_name, User.first_name)))

    def page(self, action: str | None, actor_id: int | None, cli_only: bool, starts_from, starts_before,
             page_number: int, per_page: int):
        """Events newest first, filtered; `cli_only` for those run from the command line."""
        query = (select(AuditEvent).options(selectinload(AuditEvent.actor))
                 .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()))
        if action:
            query = query.where(AuditEvent.action == action)
        if cli_only:
            query = query.where(AuditEvent.actor_id.is_(None), AuditEvent.actor_label.is_(None))
        elif actor_id is not None:
            query = query.where(AuditEvent.actor_id == actor_id)
        if starts_from is not None:
            query = query.where(AuditEvent.at >= starts_from)
        if starts_before is not None:
            query = query.where(AuditEvent.at < starts_before)
        return db.paginate(query, page=page_number, per_page=per_page, error_out=False)
