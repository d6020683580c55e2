"""The emails of one send job, shared by the threads that send them."""
import threading
from collections import Counter, defaultdict, deque
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
    throttled: int = 0


class Batch:
    """What the threads of one send job share: the work left, the counts, the writer."""

    def __init__(self, writer: OutcomeWriter, claimed: int):
        self.writer = writer
        self.lock = threading.Lock()
        self.work: deque[Email] = deque()
        self.unanswered: set[int] = set()
        self.counts = Counter(claimed=claimed)
        self.retry_now: dict[int, list[int]] = defaultdict(list)
        self.starts_at: datetime | None = None  # the earliest session start in the batch (its priority)
        self.connected = 0  # threads of this batch holding a connection

    def connect(self, change: int) -> None:
        with self.lock:
            self.connected += change

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
        self.writer.record(notification_id, status, reason, now, **fields)

    def wait(self, email: Email, reason: str, until: datetime | None, now: datetime) -> None:
        """Back to `pending` without counting an attempt, until `until` (None: until queued again)."""
        self.write(email.id, Status.PENDING, reason, now, next_attempt_at=until)
        self.done(email, "waiting")
