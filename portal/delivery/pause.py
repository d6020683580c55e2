"""Pausing delivery for the whole queue, instead of failing every student.

A relay that refuses our login, a TLS failure, or a run of connections that could
not be opened would fail every email the same way, and repeated refused logins can
get the account locked. So delivery pauses: rows stay `pending` and keep their
attempts, admins see why and since when, and it resumes when an admin says so or
when the probe (every `MAIL_PAUSE_PROBE_SECONDS`, one login attempt) finds the relay
answering again. The state lives in Redis, where every worker sees it.
"""
import logging
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from redis import Redis

from portal.database import utcnow
from portal.delivery.smtp import RelayConnection

log = logging.getLogger(__name__)

KEY = "portal:delivery:paused"
FAILURES_KEY = "portal:delivery:connect-failures"
PROBE_LOCK = "portal:delivery:probe-lock"
# Connections that could not be opened, one after another, before delivery pauses.
CONNECT_FAILURES_TO_PAUSE = 5


@dataclass(frozen=True)
class PauseState:
    reason: str
    since: datetime
    by: str  # "relay" (paused by itself) or the admin's email
    last_probe: str | None = None


def is_paused(redis: Redis) -> bool:
    """Paused means the hash has `since`, as `state` reads it: a probe's `last_probe` written just
    after a resume must not leave workers holding every email while admins see "running"."""
    return bool(redis.hexists(KEY, "since"))


def state(redis: Redis) -> PauseState | None:
    values = {k.decode(): v.decode() for k, v in redis.hgetall(KEY).items()}
    if "since" not in values:
        return None
    # `reason` follows `since` by one command (see `pause`): a reader in between sees a placeholder.
    return PauseState(values.get("reason", "Delivery paused"), datetime.fromisoformat(values["since"]),
                      values.get("by", "relay"), values.get("last_probe"))


def pause(redis: Redis, reason: str, by: str = "relay") -> bool:
    """Pause (keeping the first reason if already paused). True if this call paused it."""
    created = redis.hsetnx(KEY, "since", utcnow().isoformat())
    if created:
        redis.hset(KEY, mapping={"reason": reason, "by": by})
        log.warning("delivery paused: %s", reason)
    return bool(created)


def resume(redis: Redis, by: str = "relay") -> bool:
    """True if delivery was paused. The caller then queues what waited."""
    was_paused = bool(redis.delete(KEY))
    redis.delete(FAILURES_KEY)
    if was_paused:
        log.warning("delivery resumed by %s", by)
    return was_paused


def connect_failed(redis: Redis, reason: str) -> bool:
    """Count a connection that could not be opened; pause after too many in a row. True if paused."""
    failures = redis.incr(FAILURES_KEY)
    redis.expire(FAILURES_KEY, 3600)
    if failures >= CONNECT_FAILURES_TO_PAUSE:
        return pause(redis, f"{reason} ({failures} connection attempts in a row failed)")
    return False


def connected(redis: Redis) -> None:
    redis.delete(FAILURES_KEY)


def probe(redis: Redis, interval: int) -> bool | None:
    """While paused, try the relay once per `interval` (whichever worker gets there first):
    connect, TLS and login, no message. True when the relay answers (the caller resumes),
    False when it still does not, None when there was nothing to probe."""
    if not is_paused(redis) or not redis.set(PROBE_LOCK, "1", nx=True, ex=max(1, interval)):
        return None
    relay = RelayConnection(current_app.extensions["mail"], current_app.config["MAIL_TIMEOUT_SECONDS"])
    try:
        problem = relay.open()
    finally:
        relay.close()
    if problem:
        redis.hset(KEY, "last_probe", f"{utcnow().isoformat()} {problem.reason}")
        log.info("delivery still paused, the relay probe failed: %s", problem.reason)
        return False
    return True
