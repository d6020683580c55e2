"""The RQ queue and every job the portal puts on it: names, ids and enqueueing, in one place.

Job ids are deterministic, and a job whose id is still waiting or running is not
enqueued again. Every `enqueue_*` function tolerates a queue that is down: it logs,
returns False, and leaves the rows in the database for the sweep to find.

Whoever can write to Redis can put a job on the queue, so a worker trusts none of it:
jobs are JSON (ids only; RQ's default, pickle, runs code while it is read), a worker
runs only the functions in PORTAL_JOBS (no callbacks, no methods of an object), and a
failed job's error text is stored with any token in it cut short.
"""
import hashlib
import logging
from datetime import datetime, timedelta

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from portal.database import utcnow
from portal.extensions import db
from portal.log_redaction import redact
from portal.models import AttendanceSession
from portal.repositories import SessionRepository

log = logging.getLogger(__name__)

GENERATE_JOB = "portal.delivery.jobs.generate_notifications"
SEND_JOB = "portal.delivery.jobs.send_notifications"
SWEEP_JOB = "portal.delivery.jobs.sweep"
ACCOUNT_EMAIL_JOB = "portal.delivery.jobs.send_account_email"  # an invitation or a reset (portal.staff)
BOUNCES_JOB = "portal.delivery.jobs.read_bounces"  # the bounce mailbox (portal.bounces)

# What a worker may run: these, and their old names (portal.tasks) for jobs queued before an upgrade.
PORTAL_JOBS = frozenset({GENERATE_JOB, SEND_JOB, SWEEP_JOB, ACCOUNT_EMAIL_JOB, BOUNCES_JOB} | {
    f"portal.tasks.{name.rpartition('.')[2]}" for name in (GENERATE_JOB, SEND_JOB, SWEEP_JOB)})


class RefusedJobError(Exception):
    """A job on the queue that is not one of the portal's: never run."""


class PortalJob(Job):
    """A job as the portal reads it: only its own functions run, and no callback named in Redis
    is ever imported (RQ imports one when a job fails or a registry cleans up, in the worker
    and in the web process that reads the registries for /admin/queue)."""

    @property
    def success_callback(self):
        return None

    @property
    def failure_callback(self):
        return None

    @property
    def stopped_callback(self):
        return None

    @property
    def func(self):
        callbacks = (self._success_callback_name, self._failure_callback_name, self._stopped_callback_name)
        if self.func_name not in PORTAL_JOBS or self.instance is not None or any(callbacks):
            raise RefusedJobError(f"refused to run {self.func_name!r}: not one of the portal's jobs")
        return super().func


class PortalWorker(SimpleWorker):
    """Runs jobs in this process (no fork per job: a job is a whole batch of emails, and
    forking would cost more than the bookkeeping it isolates), only the portal's own."""

    def __init__(self, queues: list[Queue], **options):
        super().__init__(queues, connection=queues[0].connection, job_class=PortalJob,
                         serializer=JSONSerializer, **options)

    def handle_job_failure(self, job, queue, started_job_registry=None, exc_string="", execution=None):
        super().handle_job_failure(job, queue, started_job_registry, redact(exc_string), execution)


# Sessions that start within this (or have started) are sent before anything else.
URGENT_WINDOW = timedelta(hours=2)

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
    name = app.config["RQ_QUEUE_NAME"]
    # Workers take jobs from the first non-empty queue: classes starting now, then admins'
    # bulk retries and the sweep, then sessions further ahead.
    app.extensions["rq_queues"] = {
        priority: Queue(queue_name, connection=connection, job_class=PortalJob, serializer=JSONSerializer)
        for priority, queue_name in (("urgent", f"{name}-urgent"), ("normal", name), ("later", f"{name}-later"))
    }


def worker_queues(app: Flask) -> list[Queue]:
    """The queues a worker serves, most urgent first."""
    return list(app.extensions["rq_queues"].values())


def make_worker(app: Flask) -> PortalWorker:
    return PortalWorker(worker_queues(app))


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


def get_queue(priority: str = "normal") -> Queue:
    return current_app.extensions["rq_queues"][priority]


def priority_for(starts_at: datetime | None) -> str:
    """"urgent" for a session under way or starting within URGENT_WINDOW, else "later"."""
    if starts_at is None or starts_at - utcnow() <= URGENT_WINDOW:
        return "urgent"
    return "later"


def ids_digest(ids: list[int]) -> str:
    return hashlib.sha1(",".join(map(str, sorted(ids))).encode()).hexdigest()[:20]


def enqueue_once(func: str, args: tuple, job_id: str, priority: str = "normal", **options) -> Job | None:
    """Enqueue under a fixed id unless a job with that id is still waiting or running.

    Returns the new job, or None when a live one already exists. Raises RedisError
    when the queue is unreachable, so callers can tell the user and rely on the sweep.
    """
    queue = get_queue(priority)
    for _ in range(2):
        try:
            return queue.enqueue(func, *args, job_id=job_id, unique=True, **options)
        except DuplicateJobError:
            try:
                existing = PortalJob.fetch(job_id, connection=queue.connection, serializer=JSONSerializer)
            except NoSuchJobError:
                continue  # it finished and vanished between the two calls
            if existing.get_status() in LIVE_STATUSES:
                return None
            existing.delete()  # a finished or failed run: make room for a new one
    return None


QUEUE_DOWN = _l("The delivery queue is not reachable right now; emails will go out automatically as soon as it "
                "is back.")


def enqueue_generation(session_id: int, starts_at: datetime | None = None) -> bool:
    """Queue the generation job of a committed session; marks it `queued` when that worked."""
    try:
        # At the front of its queue: it only writes the rows (a fraction of a second), and every send
        # job takes the most urgent rows there are, so a class's rows must not wait behind others' sending.
        enqueue_once(GENERATE_JOB, (session_id,), f"generate-session-{session_id}", job_timeout=1800,
                     priority=priority_for(starts_at), at_front=True)
    except RedisError as exc:
        log.warning("queue unreachable, session %s waits for the sweep: %s", session_id, exc)
        return False
    SessionRepository().mark_queued(session_id)
    db.session.commit()
    return True


def enqueue_generation_if_due(session: AttendanceSession) -> bool:
    """Queue a new session's emails if they go out now; a scheduled session is left to the
    workers' upkeep, which queues it when its time comes. False only if the queue is down."""
    if session.register_only or (session.notify_at is not None and session.notify_at > utcnow()):
        return True  # nothing to send (a register-only session), or not yet
    return enqueue_generation(session.id, session.starts_at)


def enqueue_send_batches(notification_ids: list[int], suffix: str = "", starts_at: datetime | None = None,
                         bulk: bool = False) -> bool:
    """One send job per MAIL_BATCH_SIZE ids; the same ids (and suffix) always give the same job id.

    `starts_at` (the session's start) sets the priority; an admin's `bulk` retry goes
    after every class that starts now.
    """
    config = current_app.config
    size = config["MAIL_BATCH_SIZE"]
    timeout = size * (2 * config["MAIL_TIMEOUT_SECONDS"] + 5) + 120
    priority = "normal" if bulk else priority_for(starts_at)
    ids = sorted(notification_ids)
    try:
        for start in range(0, len(ids), size):
            chunk = ids[start : start + size]
            job_id = f"send-{ids_digest(chunk)}{suffix}"
            enqueue_once(SEND_JOB, (chunk,), job_id, job_timeout=timeout, priority=priority)
    except RedisError as exc:
        log.warning("queue unreachable, %d notifications wait for the sweep: %s", len(ids), exc)
        return False
    return True

