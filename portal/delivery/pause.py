"""Pausing delivery through a relay, instead of failing every student.

A relay that refuses our login, a TLS failure, or a run of connections that could
not be opened would fail every email the same way, and repeated refused logins can
get the account locked. So delivery pauses: rows stay `pending` and keep their
attempts, admins see why and since when, and it resumes when an admin says so or
when the probe (every `MAIL_PAUSE_PROBE_SECONDS`, one login attempt) finds the relay
answering again. A pause has an owner: the probe ends only the portal's own pauses (`by`
"relay"); one made by a person lasts until a person resumes it. The state lives in Redis, where
every worker sees it, one per relay (see `relays`): with several relays, the others carry a
paused relay's share, and delivery as a whole is paused only when every relay is.
"""
import logging
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from redis import Redis

from portal.database import utcnow
from portal.delivery.oauth import AccessTokens
from portal.delivery.relays import Relay
from portal.delivery.smtp import RelayConnection
from portal.metrics import counters
from portal.timefmt import local_datetime, portal_zone

log = logging.getLogger(__name__)
# Connections that could not be opened, one after another, before delivery pauses.
CONNECT_FAILURES_TO_PAUSE = 5


@dataclass(frozen=True)
class PauseState:
    reason: str
    since: datetime
    by: str  # "relay" (paused by itself) or the admin's email
    last_probe: str | None = None


def is_paused(redis: Redis, relay: Relay) -> bool:
    """Paused means the hash has `since`, as `state` reads it: a probe's `last_probe` written just
    after a resume must not leave workers holding every email while admins see "running"."""
    return bool(redis.hexists(relay.key("paused"), "since"))


def state(redis: Redis, relay: Relay) -> PauseState | None:
    values = {k.decode(): v.decode() for k, v in redis.hgetall(relay.key("paused")).items()}
    if "since" not in values:
        return None
    # `reason` follows `since` by one command (see `pause`): a reader in between sees a placeholder.
    return PauseState(values.get("reason", "Delivery paused"), datetime.fromisoformat(values["since"]),
                      values.get("by", "relay"), values.get("last_probe"))


BY_THE_PORTAL = "relay"  # the owner of a pause the portal made itself (refused login, TLS, unreachable)


def pause(redis: Redis, relay: Relay, reason: str, by: str = BY_THE_PORTAL) -> bool:
    """Pause (keeping the first reason if already paused). True if this call paused it; a person
    pausing over the portal's own pause takes it over (True too: it is theirs from now on)."""
    key = relay.key("paused")
    created = redis.hsetnx(key, "since", utcnow().isoformat())
    if created:
        redis.hset(key, mapping={"reason": reason, "by": by})
        log.warning("delivery through %s paused: %s", relay, reason)
        counters.add(counters.PAUSES, relay.name, redis)
        return True
    if by != BY_THE_PORTAL and redis.eval(_TAKE_OVER, 1, key, by, reason):
        log.warning("delivery through %s: the pause is now %s's: %s", relay, by, reason)
        return True
    return False


_TAKE_OVER = """
    if redis.call('hget', KEYS[1], 'by') == 'relay' then
        redis.call('hset', KEYS[1], 'by', ARGV[1], 'reason', ARGV[2])
        return 1
    end
    return 0
"""



def resume(redis: Redis, relay: Relay, by: str = "relay") -> bool:
    """True if delivery was paused. The caller then queues what waited."""
    was_paused = bool(redis.delete(relay.key("paused")))
    redis.delete(relay.key("connect-failures"))
    if was_paused:
        log.warning("delivery through %s resumed by %s", relay, by)
    return was_paused


def connect_failed(redis: Redis, relay: Relay, reason: str) -> bool:
    """Count a connection that could not be opened; pause after too many in a row. True if paused."""
    key = relay.key("connect-failures")
    failures = redis.incr(key)
    redis.expire(key, 3600)
    if failures >= CONNECT_FAILURES_TO_PAUSE:
        return pause(redis, relay, f"{reason} ({failures} connection attempts in a row failed)")
    return False


def connected(redis: Redis, relay: Relay) -> None:
    redis.delete(relay.key("connect-failures"))


def probe(redis: Redis, relay: Relay, interval: int) -> bool | None:
    """While paused, try the relay once per `interval` (whichever worker gets there first):
    connect, TLS and login, no message. True when the relay answers (the caller resumes),
    False when it still does not, None when there was nothing to probe."""
    current = state(redis, relay)
    if current is None or current.by != BY_THE_PORTAL:
        return None  # a person's pause lasts until a person resumes it
    if not redis.set(relay.key("probe-lock"), "1", nx=True, ex=max(1, interval)):
        return None
    connection = RelayConnection(relay, current_app.config["MAIL_TIMEOUT_SECONDS"], AccessTokens.for_relay(relay))
    try:
        problem = connection.open()
    finally:
        connection.close()
    if problem:
        tried = f"{local_datetime(utcnow())} ({portal_zone().key})"
        redis.hset(relay.key("paused"), "last_probe", f"{tried}: {problem.reason}")
        log.info("delivery through %s still paused, the relay probe failed: %s", relay, problem.reason)
        return False
    return True
