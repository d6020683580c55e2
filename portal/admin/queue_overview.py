"""A read-only look at the RQ queue for admins (what rq-dashboard shows, in the portal's pages)."""
from dataclasses import dataclass

from rq import Queue, Worker
from rq.job import Job
from rq.registry import FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

RECENT_FAILURES = 20


@dataclass
class FailedJob:
    id: str
    description: str
    ended_at: object
    error: str


def queue_overview(queue: Queue) -> dict:
    connection = queue.connection
    failed = FailedJobRegistry(queue=queue)
    failed_ids = failed.get_job_ids(start=0, end=RECENT_FAILURES - 1)
    jobs = [job for job in Job.fetch_many(failed_ids, connection=connection) if job is not None]
    return {
        "name": queue.name,
        "counts": {
            "queued": queue.count,
            "running": StartedJobRegistry(queue=queue).count,
            "scheduled": ScheduledJobRegistry(queue=queue).count,
            "failed": failed.count,
            "finished (kept a while)": FinishedJobRegistry(queue=queue).count,
        },
        "workers": [
            {"name": w.name, "state": w.get_state(), "job": (w.get_current_job_id() or ""), "host": w.hostname}
            for w in Worker.all(queue=queue)
        ],
        "failures": [FailedJob(job.id, job.description or job.func_name, job.ended_at, _last_line(job))
                     for job in jobs],
    }


def _last_line(job: Job) -> str:
    info = job.latest_result().exc_string if job.latest_result() else ""
    lines = [line for line in (info or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
