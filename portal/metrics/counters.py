"""Counts no table keeps, in Redis so that every web process and worker adds to the same ones:
confirmations refused (and why), and pauses per relay. Counting never stands in the way of what
is counted: a Redis that does not answer loses the count, not the confirmation or the pause."""
import logging

from flask import current_app
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

REFUSED = "portal:metrics:confirmations_refused"  # hash: reason -> count
PAUSES = "portal:metrics:pauses"  # hash: relay -> count


def add(key: str, field: str, redis=None) -> None:
    try:
        (redis or current_app.extensions["redis"]).hincrby(key, field, 1)
    except RedisError as exc:
        log.warning("metrics: %s %s not counted (%s)", key, field, type(exc).__name__)


def read(key: str, redis=None) -> dict[str, int]:
    values = (redis or current_app.extensions["redis"]).hgetall(key)
    return {name.decode(): int(count) for name, count in values.items()}
