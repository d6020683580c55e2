"""The RQ queue, built from config and hung on the app, and idempotent enqueueing."""
import hashlib
import logging
from datetime import timedelta

from flask import Flask, current_app
from redis import Redis
from rq import Queue
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus

log = logging.getLogger(__name__)

# A job that still has these is on its way; enqueueing it again would run it twice.
LIVE_STATUSES = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def init_app(app: Flask) -> None:
    """No connection is made here: redis-py connects on first use.

    `fakeredis://` (what `make demo` uses without REDIS_URL) is an in-process Redis,
    shared by the demo's web server thread and its worker.
    """
    url = app.config["REDIS_URL"]
    if url.startswith("fakeredis://"):
        import fakeredis

        connection = fakeredis.FakeRedis(server=_fake_server())
    else:
        connection = Redis.from_url(url, socket_connect_timeout=3, socket_timeout=10)
    app.extensions["redis"] = connection
    app.extensions["rq_queue"] = Queue(app.config["RQ_QUEUE_NAME"], connection=connection)


_FAKE_SERVER = None


def _fake_server():
    """One in-memory server per process, so every app built in it shares the same queue."""
    global _FAKE_SERVER
    if _FAKE_SERVER is None:
        import fakeredis

        _FAKE_SERVER = fakeredis.FakeServer()
    return _FAKE_SERVER


def get_redis() -> Redis:
    return current_app.extensions["redis"]


def get_queue() -> Queue:
    return current_app.extensions["rq_queue"]


def ids_digest(ids: list[int]) -> str:
    return hashlib.sha1(",".join(map(str, sorted(ids))).encode()).hexdigest()[:20]


def enqueue_once(func: str, args: tuple, job_id: str, delay: int = 0, **options) -> Job | None:
    """Enqueue under a fixed id unless a job with that id is still waiting or running.

    Returns the new job, or None when a live one already exists. Raises RedisError
    when the queue is unreachable, so callers can tell the user and rely on the sweep.
    """
    queue = get_queue()
    for _ in range(2):
        try:
            if delay > 0:
                return queue.enqueue_in(timedelta(seconds=delay), func, *args, job_id=job_id, unique=True, **options)
            return queue.enqueue(func, *args, job_id=job_id, unique=True, **options)
        except DuplicateJobError:
            try:
                existing = Job.fetch(job_id, connection=queue.connection)
            except NoSuchJobError:
                continue  # it finished and vanished between the two calls
            if existing.get_status() in LIVE_STATUSES:
                return None
            existing.delete()  # a finished or failed run: make room for a new one
    return None

