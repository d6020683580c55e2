"""One relay as a send job uses it: its shared limits, its connections, its pause.

A send job has a lane per configured relay. Each lane's threads take emails from the
job's one list, so a relay that answers faster carries more of them; a relay that is
paused, at its daily cap, or asked us to slow down gives its emails back to the list
for the other lanes (see `portal.delivery.sending`).
"""
import time
from dataclasses import dataclass

from limits import parse
from redis import Redis
from redis.exceptions import RedisError

from portal.delivery import pause
from portal.delivery.connections import POOL, WORKER
from portal.delivery.oauth import AccessTokens
from portal.delivery.pacing import ConnectionSlots, RateLimit, Throttle, parse_rate
from portal.delivery.relays import Relay
from portal.delivery.smtp import RelayConnection


@dataclass
class Turn:
    """A message's places under its relay's limits, handed back once the relay has answered."""

    places: list[tuple[RateLimit, str]]
    waited: float


class Lane:
    def __init__(self, relay: Relay, redis: Redis, builder, timeout: float, tokens: AccessTokens | None = None):
        """`builder` builds this relay's messages (its sender); `tokens` signs in with XOAUTH2."""
        self.relay, self.redis, self.builder, self.timeout, self.tokens = relay, redis, builder, timeout, tokens
        hold = 2 * timeout + 30  # a worker that dies mid-send gives its connection and places back after this
        self.slots = ConnectionSlots(redis, relay, relay.max_connections, ttl=hold)
        self.limits = []
        if relay.daily_limit:
            self.limits.append(RateLimit(redis, relay, parse(f"{relay.daily_limit}/day"), hold=hold, name="daily"))
        if item := parse_rate(relay.rate_limit):
            self.limits.append(RateLimit(redis, relay, item, hold=hold))
        self.throttle = Throttle(redis, relay)
        self.pool_key = (relay.name, relay.server, relay.port, relay.username, relay.use_tls, relay.use_ssl)
        self._running_until = 0.0  # see `paused`
        self.share: int | None = None  # this worker's share of the relay's connection cap, during a job

    def start_job(self) -> int:
        """How many connections this job may use through this relay: its own `connections`, or this
        worker's fair share of the relay's cap when other workers send through it too. Idle connections
        kept beyond the share are closed, so that their slots go to the other workers."""
        self.share = self.slots.share(WORKER)
        if self.share is None:
            return self.relay.connections
        POOL.trim(self.pool_key, self.share)
        return min(self.relay.connections, self.share)

    def end_job(self) -> None:
        if self.share is not None:
            self.slots.share(WORKER, sending=False)

    @property
    def name(self) -> str:
        return self.relay.name

    def paused(self) -> bool:
        """Whether this relay is paused; "running" is trusted for half a second, not asked per message."""
        if time.monotonic() < self._running_until:
            return False
        try:
            paused = pause.is_paused(self.redis, self.relay)
        except RedisError:
            paused = False
        if not paused:
            self._running_until = time.monotonic() + 0.5
        return paused

    def pause_seen(self) -> None:
        """A connection problem may have paused it: ask Redis again next time."""
        self._running_until = 0.0

    def pause_reason(self) -> str:
        current = pause.state(self.redis, self.relay)
        return current.reason if current else "see Admin → Delivery queue"

    # --- a message's turn ------------------------------------------------------------------

    def take_turn(self, max_wait: float) -> Turn | None:
        """Wait for this message's turn under the daily cap, the rate limit and the relay's pace; None
        (and no place kept) if that is more than `max_wait` away."""
        started = time.monotonic()
        places = []
        for limit in self.limits:
            place = limit.wait_turn(max(0.0, max_wait - (time.monotonic() - started)))
            if place is None:
                self.answered(Turn(places, 0.0))  # counted as used: simpler than giving it back, never too many
                return None
            places.append((limit, place))
        if self.throttle.wait_turn(max(0.0, max_wait - (time.monotonic() - started))) is None:
            self.answered(Turn(places, 0.0))
            return None
        return Turn(places, time.monotonic() - started)

    @staticmethod
    def answered(turn: Turn) -> None:
        """The relay has answered (or the message did not go): its places age out of their windows."""
        for limit, place in turn.places:
            limit.sent(place)

    # --- connections -------------------------------------------------------------------------

    def take_connection(self, max_wait: float, give_up) -> tuple[RelayConnection | None, str | None]:
        """An idle connection of this process, or a new one under this relay's connection cap."""
        taken = POOL.take(self.pool_key)
        if taken:
            self.slots.renew(taken[1])
            return taken
        lease = self.slots.acquire(max_wait, give_up=give_up)
        return (RelayConnection(self.relay, self.timeout, self.tokens), lease) if lease else (None, None)

    def put_back(self, connection: RelayConnection, lease: str) -> None:
        """Keep the connection for the next job (within this worker's share of a capped relay): a
        connection carries many messages, and opening one costs several round trips."""
        keep = self.share is None or POOL.count(self.pool_key) < self.share
        if connection.is_open and keep:
            POOL.give(self.pool_key, connection, lease, self.slots)
        else:
            self.drop(connection, lease)

    def drop(self, connection: RelayConnection, lease: str) -> None:
        connection.close()
        self.slots.release(lease)
