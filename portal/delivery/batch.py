"""The emails of one send job, shared by the threads that send them."""
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from portal.delivery.outcomes import OutcomeWriter
from portal.models import NotificationStatus as Status


@dataclass
class Email:
    id: int
    attempts: int  # tried before (not counting this time)
    expires_at: datetime
    row: object  # what the message is built from (see DeliveryService._built)
    message: object = None  # built and serialised by the thread that sends it, before its turn
    built_for: str | None = None  # the relay whose sender the message carries
    throttled: int = 0


@dataclass
class Driver:
    """One thread of the batch, sending through one relay."""

    relay: str
    active: bool = True


class Batch:
    """What the threads of one send job share: the work left, the counts, the writer."""

    CHECK_EVERY = 0.02  # seconds between looks at whether the batch's rows are still its own

    def __init__(self, writer: OutcomeWriter, claimed: int, message_ids: dict[int, str] | None = None,
                 still_ours: Callable[[dict[int, str]], set[int]] | None = None):
        """`message_ids`: the Message-ID this batch's claim of each row carries; `still_ours`: which
        of those rows are still this claim's (not re-issued, withdrawn or cancelled since)."""
        self.writer = writer
        self.message_ids = dict(message_ids or {})
        self._still_ours = still_ours
        self._ours: set[int] | None = None
        self._asked: set[int] = set()  # the rows the last answer was about
        self._checked = 0.0
        self._asking = threading.Lock()  # held by the thread asking the database which rows are still ours
        self.lock = threading.Lock()
        self.work: deque[Email] = deque()
        self.unanswered: set[int] = set()
        self.counts = Counter(claimed=claimed)
        self.retry_now: dict[int, list[int]] = defaultdict(list)
        self.starts_at: datetime | None = None  # the earliest session start in the batch (its priority)
        self.connected = 0  # threads of this batch holding a connection
        self.drivers: list[Driver] = []
        self.refill: Callable[[], int] | None = None  # claims more emails into the batch: how many
        self.exhausted = False  # nothing more to claim: threads that run out of emails leave
        self._refilling = threading.Lock()

    def connect(self, change: int) -> None:
        with self.lock:
            self.connected += change

    def enter(self, relay: str) -> Driver:
        with self.lock:
            driver = Driver(relay)
            self.drivers.append(driver)
            return driver

    def leave(self, driver: Driver) -> None:
        with self.lock:
            driver.active = False

    def claimed(self, rows: list) -> None:
        """Rows the job has just claimed (with the Message-ID of that claim) and their session starts."""
        with self.lock:
            self.counts["claimed"] += len(rows)
            self.message_ids.update({row.id: row.message_id for row in rows})
            self.starts_at = min([row.starts_at for row in rows] + ([self.starts_at] if self.starts_at else []),
                                 default=None)

    def next_for(self, driver: Driver) -> Email | None:
        """The next email for this thread, claiming more (`refill`) when the list runs out; None when
        none is left, and the thread has left (at once, so that no other thread hands an email back to
        it in between)."""
        while True:
            with self.lock:
                if self.work:
                    return self.work.popleft()
                if self.refill is None or self.exhausted:
                    driver.active = False
                    return None
            with self._refilling:
                with self.lock:
                    if self.work or self.exhausted:
                        continue
                if not self.refill():
                    with self.lock:
                        self.exhausted = True

    def hand_back(self, email: Email, driver: Driver) -> bool:
        """Give an email to the threads of the other relays, and leave; False (and nothing done) when no
        thread of another relay is still working on this batch."""
        with self.lock:
            if not any(other.active and other.relay != driver.relay for other in self.drivers):
                return False
            self.work.appendleft(email)
            driver.active = False
            return True

    def add(self, emails: list[Email]) -> None:
        with self.lock:
            self.work.extend(emails)
            self.unanswered.update(email.id for email in emails)

    def next(self) -> Email | None:
        with self.lock:
            return self.work.popleft() if self.work else None

    def again(self, email: Email) -> None:
        with self.lock:
            self.work.append(email)

    def done(self, email: Email, outcome: str) -> None:
        with self.lock:
            self.counts[outcome] += 1
            self.unanswered.discard(email.id)

    def in_flight(self) -> list[int]:
        with self.lock:
            return sorted(self.unanswered)

    def write(self, notification_id: int, status: str, reason: str | None, now: datetime, **fields) -> None:
        """Record an answer (or a decision) for one email, committed at once."""
        self.writer.record(notification_id, self.message_ids.get(notification_id), status, reason, now, **fields)

    def superseded(self, email: Email) -> bool:
        """Whether the email's row was changed since this batch claimed it (a new link, a withdrawal,
        a cancellation): its message is stale and must not go. Asked of the database at most every
        CHECK_EVERY seconds for the whole batch, just before each message would go."""
        if self._still_ours is None:
            return False
        with self.lock:
            known, asked, fresh = self._ours, self._asked, self._fresh()
        # An email claimed after the last question was asked is the batch's own until the next one.
        if fresh:
            return email.id in asked and email.id not in known
        if known is not None and not self._asking.acquire(blocking=False):
            return email.id in asked and email.id not in known  # another thread asks: the last answer will do
        if known is None:
            self._asking.acquire()  # the first answer: ask for it, or wait for the thread asking
        try:
            with self.lock:
                fresh = self._fresh()
                waiting = {i: m for i, m in self.message_ids.items() if i in self.unanswered}
            if not fresh:  # the query runs outside the batch's lock: the other threads go on meanwhile
                ours = self._still_ours(waiting)
                with self.lock:
                    self._ours, self._asked, self._checked = ours, set(waiting), time.monotonic()
            with self.lock:
                known, asked = self._ours, self._asked
        finally:
            self._asking.release()
        return email.id in asked and email.id not in known

    def _fresh(self) -> bool:
        return self._ours is not None and time.monotonic() - self._checked < self.CHECK_EVERY

    def wait(self, email: Email, reason: str, until: datetime | None, now: datetime) -> None:
        """Back to `pending` without counting an attempt, until `until` (None: until queued again)."""
        self.write(email.id, Status.PENDING, reason, now, next_attempt_at=until)
        self.done(email, "waiting")
