"""Relay connections kept open between send jobs in this worker process.

Opening a connection costs the relay's greeting, EHLO, often STARTTLS and a login:
several round trips. A worker keeps its connections (each with its lease of
MAIL_MAX_CONNECTIONS) for the next job, and closes those unused for IDLE_SECONDS, so
an idle worker does not hold slots another worker needs.
"""
import threading
import time
import uuid

from portal.delivery.pacing import ConnectionSlots
from portal.delivery.smtp import RelayConnection

IDLE_SECONDS = 5.0


class RelayPool:
    """Open relay connections kept between send jobs in this process, each with its lease."""

    def __init__(self):
        self._lock = threading.Lock()
        self._idle: list[tuple[tuple, RelayConnection, str, ConnectionSlots, float]] = []

    def take(self, key: tuple) -> tuple[RelayConnection, str] | None:
        self.close_idle()
        with self._lock:
            for index in range(len(self._idle) - 1, -1, -1):
                if self._idle[index][0] == key:
                    _, relay, lease, _, _ = self._idle.pop(index)
                    return relay, lease
        return None

    def give(self, key: tuple, relay: RelayConnection, lease: str, slots: ConnectionSlots) -> None:
        with self._lock:
            self._idle.append((key, relay, lease, slots, time.monotonic()))

    def count(self, key: tuple) -> int:
        with self._lock:
            return sum(1 for entry in self._idle if entry[0] == key)

    def trim(self, key: tuple, keep: int) -> int:
        """Close this relay's idle connections beyond `keep` (their slots go to other workers)."""
        with self._lock:
            mine = [entry for entry in self._idle if entry[0] == key]
            extra = mine[:max(0, len(mine) - keep)]  # the oldest first
            self._idle = [entry for entry in self._idle if entry not in extra]
        for _, relay, lease, slots, _ in extra:
            relay.close()
            slots.release(lease)
        return len(extra)

    def close_idle(self, older_than: float = IDLE_SECONDS) -> int:
        now = time.monotonic()
        with self._lock:
            stale = [entry for entry in self._idle if now - entry[4] >= older_than]
            self._idle = [entry for entry in self._idle if now - entry[4] < older_than]
        for _, relay, lease, slots, _ in stale:
            relay.close()
            slots.release(lease)
        return len(stale)


POOL = RelayPool()
WORKER = uuid.uuid4().hex  # this process, as the workers sharing a relay's connection cap count it
