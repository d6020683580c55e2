"""Engine tuning and the UTC datetime column type."""
from datetime import datetime, timezone

from flask import Flask
from sqlalchemy import DateTime, event
from sqlalchemy.types import TypeDecorator

from portal.extensions import db


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC: the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def driver_time(dialect_name: str):
    """How to hand an aware datetime straight to the driver, as UTCDateTime would store it
    (naive UTC; on SQLite, the text SQLAlchemy writes and reads back)."""
    if dialect_name == "postgresql":
        return lambda moment: moment.astimezone(timezone.utc).replace(tzinfo=None)
    return lambda moment: moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")


def _tune_sqlite(dbapi_connection, _record) -> None:
    # WAL lets the web process read while a worker writes; NORMAL keeps a commit
    # per delivered email cheap (no fsync per row) without risking corruption.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _tune_sqlite)
