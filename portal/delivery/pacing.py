"""How fast, and over how many connections, every worker together may use the relay.

All three limits are shared by every worker through Redis, each relay's apart (see `relays`):

- `ConnectionSlots`: at most `MAIL_MAX_CONNECTIONS` SMTP connections open at once.
  Each open connection holds a lease in a sorted set; a worker that dies without
  closing its connections loses their leases after `ttl` seconds.
- `RateLimit`: never more than `MAIL_RATE_LIMIT` messages in any window of its length,
  counted the way the relay counts them: when it accepts them.
- `Throttle`: when the relay answers "slow down", every worker halves its pace to that
  relay and then speeds up again by a tenth every `RECOVER_SECONDS` without complaint.

Redis trouble never stops delivery: the limits are then skipped for that message.
"""
import logging
import re
import threading
import time
import uuid

from limits import RateLimitItem, parse
from redis import Redis
from redis.exceptions import RedisError

from portal.delivery.relays import Relay

log = logging.getLogger(__name__)

DAY = 24 * 3600
SECONDS_KEPT = 3600  # each second's count of messages sent is kept an hour: the relay's pace (busy_pace)
BUSY_GAP = 5  # seconds: a longer silence between two messages means the queue was empty, not the relay slow
RATE_FORMAT = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour)\s*$")


def parse_rate(text: str) -> RateLimitItem | None:
    """`N/second`, `N/minute` or `N/hour`; empty means no limit. ValueError otherwise."""
    if not text or not text.strip():
        return None
    match = RATE_FORMAT.match(text)
    if not match or int(match.group(1)) < 1:
        raise ValueError(f"expected N/second, N/minute or N/hour with N ≥ 1, got {text!r}")
    return parse(f"{match.group(1)}/{match.group(2)}")


class ConnectionSlots:
    _ACQUIRE = """
        redis.call('zremrangebyscore', KEYS[1], '-inf', ARGV[1])
        if redis.call('zcard', KEYS[1]) < tonumber(ARGV[3]) then
            redis.call('zadd', KEYS[1], ARGV[1] + ARGV[2], ARGV[4])
            return 1
        end
        return 0
    """

    def __init__(self, redis: Redis, relay: Relay, cap: int | None, ttl: float):
        self.redis, self.cap, self.ttl = redis, cap, ttl
        self.key = relay.key("connections")
        self._acquire = redis.register_script(self._ACQUIRE) if cap else None

    def acquire(self, timeout: float, give_up=lambda: False) -> str | None:
        """A lease for one more open connection, waiting up to `timeout` (or until `give_up()`);
        None if none came free (the other workers keep to their `share`, so one comes free soon)."""
        lease = uuid.uuid4().hex
        if not self.cap:
            return lease
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self._acquire(keys=[self.key], args=[time.time(), self.ttl, self.cap, lease]):
                    return lease
            except RedisError as exc:
                log.warning("connection cap not checked (Redis: %s)", exc)
                return lease
            if time.monotonic() >= deadline or give_up():
                return None
            time.sleep(0.05)

    def share(self, sender: str, sending: bool = True) -> int | None:
        """This worker's fair share of the cap while it sends (`sending`: it starts a send job; False:
        it has finished one): the cap divided among the workers sending through this relay now. Each
        keeps its share of connections open from job to job instead of closing them for the others
        and opening new ones (None: no cap, no share to keep to)."""
        if not self.cap:
            return None
        key, now = f"{self.key}:senders", time.time()
        try:
            pipe = self.redis.pipeline(transaction=False).zremrangebyscore(key, "-inf", now)
            if sending:
                pipe.zadd(key, {sender: now + self.ttl})
            else:
                pipe.zrem(key, sender)
            senders = pipe.zcard(key).expire(key, int(self.ttl) + 1).execute()[-2]
        except RedisError:
            senders = 1
        return max(1, -(-self.cap // max(1, senders)))

    def renew(self, lease: str) -> None:
        if self.cap:
            self._safely(lambda: self.redis.zadd(self.key, {lease: time.time() + self.ttl}, xx=True))

    def release(self, lease: str) -> None:
        if self.cap:
            self._safely(lambda: self.redis.zrem(self.key, lease))

    def open_count(self) -> int:
        return self.redis.zcount(self.key, time.time(), "+inf")

    @staticmethod
    def _safely(call) -> None:
        try:
            call()
        except RedisError as exc:
            log.warning("connection lease not updated (Redis: %s)", exc)


class RateLimit:
    """MAIL_RATE_LIMIT across all workers: a moving window in a Redis sorted set.

    Why not a plain moving window of the moments messages were let go (the `limits` library's,
    which this replaced): the relay counts a message when it accepts it, which is some time
    later, and that delay varies with the relay and with the load on the worker. Two slow
    messages at the end of one window and a quick start to the next, and the relay counted ten
    in a second at 8/second. So each message holds its place from its turn until the relay
    has answered, and only then starts to age out of the window. Whatever the delays, the
    relay never sees more than N in any window; the price is the send time (tens of
    milliseconds) added to each place's window, a few percent of a one-second window.
    """

    _TAKE = """
        local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
        redis.call('zremrangebyscore', KEYS[1], '-inf', now - window)
        if redis.call('zcard', KEYS[1]) < limit then
            redis.call('zadd', KEYS[1], now + tonumber(ARGV[4]), ARGV[5])
            redis.call('expire', KEYS[1], math.ceil(window + tonumber(ARGV[4])) + 1)
            return {1, '0'}
        end
        local oldest = tonumber(redis.call('zrange', KEYS[1], 0, 0, 'WITHSCORES')[2])
        if oldest > now then return {0, '0.02'} end  -- every place is held by a message still being sent
        return {0, tostring(oldest + window - now)}
    """

    def __init__(self, redis: Redis, relay: Relay, item: RateLimitItem, hold: float = 90.0, name: str = "rate"):
        """`hold`: how long a message being sent may keep its place (a worker that dies mid-send
        gives it back after that); `name`: which of the relay's limits (its rate, its daily cap)."""
        self.redis, self.item, self.hold = redis, item, hold
        self.window = item.get_expiry()
        self.key = relay.key(name)
        self._take = redis.register_script(self._TAKE)

    def wait_turn(self, max_wait: float) -> str | None:
        """Blocks until a message may go and returns its place (give it to `sent`); None if the
        next free place is more than `max_wait` away."""
        started = time.monotonic()
        place = uuid.uuid4().hex
        while True:
            try:
                taken, wait = self._take(keys=[self.key], args=[time.time(), self.window, self.item.amount,
                                                                 self.hold, place])
            except RedisError as exc:
                log.warning("MAIL_RATE_LIMIT not checked (Redis: %s)", exc)
                return ""
            if taken:
                return place
            wait = float(wait)
            if time.monotonic() - started + wait > max_wait:
                return None
            time.sleep(max(wait, 0.002))

    def sent(self, place: str) -> None:
        """The relay has answered this message: its place ages out of the window from now."""
        if place:
            try:
                self.redis.zadd(self.key, {place: time.time()}, xx=True)
            except RedisError as exc:
                log.warning("MAIL_RATE_LIMIT place not updated (Redis: %s)", exc)


class Throttle:
    """The queue's pace after the relay said "slow down" (none until it does)."""

    MIN_RATE = 0.2  # messages a second: never slower than one every five seconds
    RECOVER_SECONDS = 2.0
    FORGET_SECONDS = 600  # ten quiet minutes and the throttle is forgotten
    _TURN = """
        local rate = tonumber(redis.call('hget', KEYS[1], 'rate'))
        if not rate then return {'0', 1} end
        local now, max_wait, every = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
        local changed = tonumber(redis.call('hget', KEYS[1], 'changed'))
        if now - changed >= every then
            rate = rate * 1.1 + 0.1
            redis.call('hset', KEYS[1], 'rate', rate, 'changed', now)
        end
        local tat = math.max(tonumber(redis.call('hget', KEYS[1], 'tat')) or now, now)
        local wait = tat - now
        if wait > max_wait then return {tostring(wait), 0} end
        redis.call('hset', KEYS[1], 'tat', tat + 1 / rate)
        return {tostring(wait), 1}
    """
    _SLOW_DOWN = """
        local now, observed, cooldown = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
        local rate = tonumber(redis.call('hget', KEYS[1], 'rate'))
        local changed = tonumber(redis.call('hget', KEYS[1], 'changed')) or 0
        if rate and now - changed < 1 then return tostring(rate) end
        rate = math.max(tonumber(ARGV[4]), math.min(rate or observed, observed) / 2)
        local tat = math.max(tonumber(redis.call('hget', KEYS[1], 'tat')) or now, now + cooldown)
        redis.call('hset', KEYS[1], 'rate', rate, 'changed', now, 'tat', tat)
        redis.call('expire', KEYS[1], ARGV[5])
        return tostring(rate)
    """

    CHECK_EVERY = 0.5  # while no throttle is in force, look for one this often, not per message

    def __init__(self, redis: Redis, relay: Relay):
        self.redis, self.relay = redis, relay
        self.key = relay.key("pace")
        self._turn = redis.register_script(self._TURN)
        self._slow_down = redis.register_script(self._SLOW_DOWN)
        self._lock = threading.Lock()
        self._calm_until = 0.0  # monotonic time until which no throttle is known to be in force
        self._unsent, self._flushed = 0, time.monotonic()

    def _calm(self) -> bool:
        """No throttle in force (checked in Redis at most every CHECK_EVERY seconds)."""
        if time.monotonic() < self._calm_until:
            return True
        try:
            calm = not self.redis.exists(self.key)
        except RedisError:
            calm = True
        if calm:
            self._calm_until = time.monotonic() + self.CHECK_EVERY
        return calm

    def wait_turn(self, max_wait: float) -> float | None:
        """Sleeps until this message's slot; None (no slot taken) if that is more than `max_wait` away."""
        if self._calm():
            return 0.0
        try:
            wait, reserved = self._turn(keys=[self.key], args=[time.time(), max_wait, self.RECOVER_SECONDS])
        except RedisError as exc:
            log.warning("relay pace not checked (Redis: %s)", exc)
            return 0.0
        wait = float(wait)
        if not reserved:
            return None
        if wait > 0:
            time.sleep(wait)
        return wait

    def count_sent(self) -> None:
        """Messages this relay accepted per second, kept a few seconds: the pace to halve from.
        Counted here and added to Redis about twice a second (and before slowing down)."""
        with self._lock:
            self._unsent += 1
            if time.monotonic() - self._flushed < self.CHECK_EVERY:
                return
        self.flush()

    def flush(self) -> None:
        with self._lock:
            count, self._unsent, self._flushed = self._unsent, 0, time.monotonic()
        if not count:
            return
        try:
            record_sent(self.redis, self.relay, int(time.time()), count)
        except RedisError:
            pass

    def slow_down(self, cooldown: float = 1.0) -> float | None:
        """The relay asked us to slow down: halve the pace (once a second at most). The new rate."""
        self.flush()  # what this process sent since its last count, or a batch's first second reads as 0
        try:
            observed = max(self.MIN_RATE, self._observed_rate())
            rate = float(self._slow_down(keys=[self.key], args=[time.time(), observed, cooldown, self.MIN_RATE,
                                                                  self.FORGET_SECONDS]))
        except RedisError as exc:
            log.warning("relay pace not lowered (Redis: %s)", exc)
            return None
        self._calm_until = 0.0
        log.info("relay %s asked to slow down: pace now %.2f messages/s", self.relay, rate)
        return rate

    def _observed_rate(self) -> float:
        """Messages this relay accepted per second over the last five seconds, or since sending
        began if that is sooner: a relay that says "slow down" a second into a batch is halved
        from the pace it saw in that second, not from a fifth of it."""
        now = time.time()
        counts = sent_per_second(self.redis, self.relay, int(now) - 5, int(now))
        first = min(counts, default=int(now))
        return sum(counts.values()) / max(1.0, now - first)

    def current_rate(self) -> float | None:
        value = self.redis.hget(self.key, "rate")
        return float(value) if value is not None else None


def sent_recently(redis: Redis, relay: Relay) -> tuple[int, int]:
    """Messages the relay accepted in the last hour and the last 24 hours (counted a minute at a time,
    as `Throttle.count_sent` records them), for the queue page; older minutes are dropped here."""
    key, now_minute = relay.key("sent-minutes"), int(time.time()) // 60
    counts = {int(minute): int(count) for minute, count in redis.hgetall(key).items()}
    old = [minute for minute in counts if minute <= now_minute - DAY // 60]
    if old:
        redis.hdel(key, *old)
    hour = sum(count for minute, count in counts.items() if minute > now_minute - 60)
    day = sum(count for minute, count in counts.items() if minute > now_minute - DAY // 60)
    return hour, day


def record_sent(redis: Redis, relay: Relay, second: int, count: int) -> None:
    """`count` messages the relay accepted in `second` (epoch seconds): kept per second for an hour
    (a hash a minute, each expiring by itself), for its pace; per minute for a day, for the queue page."""
    seconds, minutes = relay.key(f"sent-seconds:{second // 60}"), relay.key("sent-minutes")
    (redis.pipeline(transaction=False).hincrby(seconds, str(second), count).expire(seconds, SECONDS_KEPT + 60)
     .hincrby(minutes, str(second // 60), count).expire(minutes, DAY + 120).execute())


def sent_per_second(redis: Redis, relay: Relay, first: int, last: int) -> dict[int, int]:
    """Messages the relay accepted in each second from `first` to `last` (epoch seconds; only the
    seconds with any), as `Throttle.flush` counts them. Kept SECONDS_KEPT."""
    pipe = redis.pipeline(transaction=False)
    for minute in range(first // 60, last // 60 + 1):
        pipe.hgetall(relay.key(f"sent-seconds:{minute}"))
    counts = {}
    for fields in pipe.execute():
        for second, count in fields.items():
            if first <= int(second) <= last:
                counts[int(second)] = int(count)
    return counts


def busy_pace(redis: Redis, relay: Relay, now: float | None = None) -> float | None:
    """Messages a second the relay accepts while there is work for it: what the estimates of when
    the last email leaves divide by. Measured over the runs of sending (no silence longer than
    BUSY_GAP) of the last ten minutes, else of the last hour, each run without its first and last
    second (partly idle), so a quiet queue does not read as a slow relay. The last measure is
    remembered for a month: the first class of the morning is estimated at yesterday's pace.
    None: never measured (a run needs three seconds or more)."""
    now = int(now or time.time())
    key = relay.key("busy-pace")
    counts = sent_per_second(redis, relay, now - SECONDS_KEPT, now)
    for since in (now - 600, now - SECONDS_KEPT):
        pace = _pace_of_runs({second: n for second, n in counts.items() if second >= since})
        if pace:
            redis.set(key, pace, ex=30 * DAY)
            return pace
    remembered = redis.get(key)
    return float(remembered) if remembered else None


def _pace_of_runs(counts: dict[int, int]) -> float | None:
    messages = seconds = 0
    run: list[int] = []
    for second in [*sorted(counts), None]:
        if run and (second is None or second - run[-1] > BUSY_GAP):
            if run[-1] - run[0] >= 2:
                messages += sum(counts[s] for s in run[1:-1])
                seconds += run[-1] - run[0] - 1
            run = []
        if second is not None:
            run.append(second)
    return messages / seconds if messages and seconds else None
