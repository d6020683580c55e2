"""Engine tuning and the UTC datetime column type."""
from datetime import datetime, timezone

from flask import Flask
from sqlalchemy import DateTime, event, text
from sqlalchemy.exc import SQLAlchemyError
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


MAX_ID = 2**31 - 1  # the largest id the tables hold: PostgreSQL's INTEGER (SQLite's holds more)


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
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def engine_options(config: dict) -> dict:
    """Timeouts, so that a database that stops answering fails a page in seconds, never hangs it.

    PostgreSQL: giving up on a connection after DATABASE_CONNECT_TIMEOUT_SECONDS (a server
    that accepts TCP and never answers), the server cancelling any statement that runs
    longer than DATABASE_STATEMENT_TIMEOUT_SECONDS, and waiting at most as long for a free
    connection of the pool. SQLite: how long a statement waits for another writer's lock.
    """
    connect, statement = config["DATABASE_CONNECT_TIMEOUT_SECONDS"], config["DATABASE_STATEMENT_TIMEOUT_SECONDS"]
    options: dict = {"pool_pre_ping": True}
    url = config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("postgresql"):
        options["pool_timeout"] = max(connect, 1)
        options["connect_args"] = {"connect_timeout": max(connect, 1),
                                   "options": f"-c statement_timeout={statement * 1000}"}
    elif url.startswith("sqlite"):
        options["connect_args"] = {"timeout": statement or 30}
    return options


def ping() -> None:
    """One round trip to the database (SQLAlchemyError if it does not answer; the session is
    rolled back then, so the request can go on)."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        raise


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _tune_sqlite)
