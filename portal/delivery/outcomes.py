"""Writing what the relay answered: the email's status and one row of its history.

This is the hot path of delivery (one write per email), so it skips the ORM session
and hands plain statements to a driver connection of its own, committed at once so a
worker that dies loses nothing it has heard. On PostgreSQL that connection runs with
`synchronous_commit = off` (a crash of the database server can lose the last fraction
of a second of outcomes, which the sweep then re-sends: the at-least-once guarantee);
SQLite runs in WAL mode with synchronous=NORMAL. A send job's threads share one
writer (one database connection), taking turns.

An answer changes only a row still `sending`: a lecturer who changed or cancelled the
session meanwhile has already decided what becomes of it (withdrawn, or pending with a
new email), and the answer is only added to its history.
"""
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from portal.database import driver_time
from portal.extensions import db


@dataclass(frozen=True)
class Attempt:
    """One row of an email's history."""

    outcome: str
    smtp_code: int | None
    detail: str | None
    relay: str | None = None  # the name of the relay that was tried


class OutcomeWriter:
    def __init__(self, connection):
        self._driver = connection.connection.driver_connection
        self._cursor = self._driver.cursor()
        self._time = driver_time(connection.dialect.name)
        mark = "%s" if connection.dialect.name == "postgresql" else "?"
        # An answer lands only on the claim that sent the message: a row re-issued (a new
        # Message-ID) or withdrawn meanwhile keeps its new state; the answer is in its history.
        self._update = (f"UPDATE email_notifications SET status = {mark}, last_error = {mark}, sent_at = {mark}, "
                        f"next_attempt_at = {mark}, updated_at = {mark}, attempts = attempts + {mark} "
                        f"WHERE id = {mark} AND status = 'sending' AND message_id = {mark}")
        self._history = (f"INSERT INTO delivery_attempts (notification_id, attempted_at, outcome, smtp_code, detail, "
                         f"relay) VALUES ({mark}, {mark}, {mark}, {mark}, {mark}, {mark})")
        self.lock = threading.Lock()

    @classmethod
    @contextmanager
    def open(cls):
        with db.engine.connect() as connection:
            postgres = connection.dialect.name == "postgresql"
            if postgres:
                connection.exec_driver_sql("SET synchronous_commit = off")
                connection.commit()
            try:
                yield cls(connection)
            finally:
                if postgres:
                    connection.rollback()
                    connection.exec_driver_sql("RESET synchronous_commit")
                    connection.commit()

    def record(self, notification_id: int, message_id: str, status: str, last_error: str | None, now: datetime, *,
               sent_at: datetime | None = None, next_attempt_at: datetime | None = None,
               attempt: Attempt | None = None, counts: bool = False) -> None:
        """Set the status of the claim that sent `message_id`; with `attempt`, add it to the history
        (and to `attempts` if it `counts`)."""
        convert = self._time
        with self.lock:
            self._cursor.execute(self._update, (
                status, last_error, sent_at and convert(sent_at), next_attempt_at and convert(next_attempt_at),
                convert(now), 1 if counts else 0, notification_id, message_id))
            if attempt is not None:
                self._cursor.execute(self._history, (notification_id, convert(now), attempt.outcome,
                                                     attempt.smtp_code, attempt.detail, attempt.relay))
            self._driver.commit()
