"""`/healthz`: is the database answering, is the queue answering. 503 when either is not."""
import logging

from flask import Blueprint, current_app, jsonify
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from portal import database

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    checks = {"database": _database(), "queue": _queue()}
    healthy = all(state == "ok" for state in checks.values())
    return jsonify(status="ok" if healthy else "unavailable", **checks), 200 if healthy else 503


def _database() -> str:
    try:
        database.ping()
        return "ok"
    except SQLAlchemyError as exc:
        log.warning("health check: database unreachable: %s", exc.__class__.__name__)
        return "unreachable"


def _queue() -> str:
    try:
        current_app.extensions["redis"].ping()
        return "ok"
    except (RedisError, OSError) as exc:
        log.warning("health check: queue unreachable: %s", exc.__class__.__name__)
        return "unreachable"
