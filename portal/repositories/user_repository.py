from sqlalchemy import func, select

from portal.extensions import db
from portal.models import User


class UserRepository:
    """Accounts (staff and students alike) by email."""

    def by_email(self, email: str) -> User | None:
        """Emails are unique whatever their case."""
        return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))

    def with_roles_by_name(self, roles) -> list[User]:
        return list(db.session.scalars(select(User).where(User.role.in_(roles))
                                       .order_by(User.last_name, User.first_name)))

    def email_owners(self) -> dict[str, int]:
        """Every email (lower case) and its account's id."""
        return dict(db.session.execute(select(func.lower(User.email), User.id)).all())

    def any(self) -> bool:
        return db.session.scalar(select(User.id).limit(1)) is not None
