"""What every worker does beside its jobs, on a one-second tick.

- queue scheduled sessions and retries that have just become due (one worker per second,
  by a Redis lock);
- queue the sweep every SWEEP_INTERVAL_SECONDS (one worker per interval);
- with BOUNCE_IMAP_URL, queue a reading of the bounce mailbox every BOUNCE_POLL_SECONDS
  (one worker per interval);
- while delivery is paused, probe the relay every MAIL_PAUSE_PROBE_SECONDS and resume
  when it answers;
- close this process's SMTP connections that have been idle for a few seconds.
"""
import logging
import threading
import time

from flask import Flask
from redis.exceptions import RedisError

from portal.delivery import control, queueing
from portal.delivery.connections import POOL
from portal.delivery.sweep import queue_due_retries, queue_due_sessions
from portal.extensions import db

log = logging.getLogger(__name__)

SWEEP_LOCK = "portal:sweep-lock"
RETRY_LOCK = "portal:retry-poll-lock"
BOUNCES_LOCK = "portal:bounces-lock"
TICK_SECONDS = 1.0


def run(app: Flask, stop: threading.Event) -> None:
    """Tick until `stop` is set (the worker's main thread runs the jobs meanwhile)."""
    next_sweep = time.monotonic() + app.config["SWEEP_INTERVAL_SECONDS"]
    while not stop.wait(TICK_SECONDS):
        with app.app_context():
            try:
                sweep_due = time.monotonic() >= next_sweep
                tick(app, sweep_due)
                if sweep_due:
                    next_sweep = time.monotonic() + app.config["SWEEP_INTERVAL_SECONDS"]
            except RedisError as exc:
                log.warning("upkeep skipped, queue unreachable: %s", exc)
            except Exception:  # the ticker must outlive any one bad tick
                log.exception("upkeep tick failed")
            finally:
                db.session.remove()


def tick(app: Flask, sweep_due: bool) -> None:
    redis = app.extensions["redis"]
    POOL.close_idle()
    if redis.set(RETRY_LOCK, "1", nx=True, px=int(TICK_SECONDS * 900)):
        queue_due_sessions()
        queue_due_retries()
    interval = app.config["SWEEP_INTERVAL_SECONDS"]
    if sweep_due and redis.set(SWEEP_LOCK, "1", nx=True, ex=max(1, interval - 1)):
        queueing.enqueue_once(queueing.SWEEP_JOB, (), "portal-sweep", at_front=True)
    every = app.config["BOUNCE_POLL_SECONDS"]
    if app.config["BOUNCE_IMAP_URL"] and redis.set(BOUNCES_LOCK, "1", nx=True, ex=max(1, every)):
        queueing.enqueue_once(queueing.BOUNCES_JOB, (), "portal-read-bounces")
    control.resume_when_the_relay_answers(app.config["MAIL_PAUSE_PROBE_SECONDS"])
