"""Writing what the relay answered: the email's status and one row of its history.

This is the hot path of delivery (one write per email), so it skips the ORM session
and hands plain statements to a driver connection of its own, committed at once so a
worker that dies loses nothing it has heard. On PostgreSQL that connection runs with
`synchronous_commit = off` (a crash of the database server can lose the last fraction
of a second of outcomes, which the sweep then re-sends: the at-least-once guarantee);
SQLite runs in WAL mode with synchronous=NORMAL. A send job's threads share one
writer (one database connection) and commit their answers together (a group commit): the
thread that answers while nobody writes writes at once; answers given meanwhile wait, and
the next writer commits them all in one transaction. Each thread still returns only once
its answer is committed, but ten answers at once cost one commit instead of ten in turn
(in the morning-rush benchmark, threads waiting their turn to write spent a fifth of
their time that way).

An answer changes only a row still `sending`: a lecturer who changed or cancelled the
session meanwhile has already decided what becomes of it (withdrawn, or pending with a
new email), and the answer is only added to its history.
"""
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
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
                        f"next_attempt_at = {mark}, updated_at = {mark}, attempts = attempts + {mark}, "
                        f"last_relay = CASE WHEN {mark} THEN {mark} ELSE last_relay END, "
                        f"sent_to = COALESCE({mark}, sent_to) "
                        f"WHERE id = {mark} AND status = 'sending' AND message_id = {mark}")
        self._history = (f"INSERT INTO delivery_attempts (notification_id, attempted_at, outcome, smtp_code, detail, "
                         f"relay) VALUES ({mark}, {mark}, {mark}, {mark}, {mark}, {mark})")
        self._lock = threading.Lock()
        self._waiting: list[_Answer] = []  # answers given while another thread writes
        self._writing = False

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
               attempt: Attempt | None = None, counts: bool = False, sent_to: str | None = None) -> None:
        """Set the status of the claim that sent `message_id` (with `sent_to`, the address the relay
        accepted it for); with `attempt`, add it to the history (and to `attempts` if it `counts`).
        Returns once committed; raises what the database raised."""
        convert = self._time
        answer = _Answer(
            (status, last_error, sent_at and convert(sent_at), next_attempt_at and convert(next_attempt_at),
             convert(now), 1 if counts else 0, attempt is not None, attempt and attempt.relay, sent_to,
             notification_id, message_id),
            attempt and (notification_id, convert(now), attempt.outcome, attempt.smtp_code, attempt.detail,
                         attempt.relay))
        with self._lock:
            self._waiting.append(answer)
            leads = not self._writing
            self._writing = True
        if not leads:
            answer.woken.wait()  # committed by the thread writing, or asked to write next
        if not answer.committed:
            self._write_waiting()
        if answer.error is not None:
            raise answer.error

    def _write_waiting(self) -> None:
        """Commit every answer waiting (this thread's among them), then hand the writing to the
        first thread that answered meanwhile, if any."""
        with self._lock:
            group, self._waiting = self._waiting, []
        written = False
        try:
            try:
                self._write(group)
            except Exception:  # one answer the database refuses must not take the others with it
                self._driver.rollback()
                for answer in group:
                    try:
                        self._write([answer])
                    except Exception as exc:  # its thread raises it, as if it had written alone
                        self._driver.rollback()
                        answer.error = exc
            written = True
        finally:  # whatever happened, no thread is left waiting
            for answer in group:
                if not written and answer.error is None:
                    answer.error = RuntimeError("the answer was not written")
                answer.committed = True
                answer.woken.set()
            with self._lock:
                if self._waiting:
                    self._waiting[0].woken.set()  # not committed: it writes next
                else:
                    self._writing = False

    def _write(self, group: list["_Answer"]) -> None:
        self._cursor.executemany(self._update, [answer.update for answer in group])
        history = [answer.history for answer in group if answer.history is not None]
        if history:
            self._cursor.executemany(self._history, history)
        self._driver.commit()


@dataclass
class _Answer:
    update: tuple
    history: tuple | None
    woken: threading.Event = field(default_factory=threading.Event)
    committed: bool = False
    error: Exception | None = None
