"""A read-only look at the RQ queue for admins (what rq-dashboard shows, in the portal's pages)."""
from dataclasses import dataclass

from rq import Queue, Worker
from rq.job import Job
from rq.registry import FailedJobRegistry, FinishedJobRegistry, StartedJobRegistry
from rq.serializers import JSONSerializer

from portal.delivery.queueing import PortalJob

RECENT_FAILURES = 20


@dataclass
class FailedJob:
    id: str
    description: str
    ended_at: object
    error: str


def queue_overview(queues: dict[str, Queue]) -> dict:
    """Counts summed over the priority queues (urgent, normal, later), and the waiting jobs of each."""
    connection = next(iter(queues.values())).connection
    counts = dict.fromkeys(("queued", "running", "failed", "finished"), 0)  # jobs, each many emails
    failed_ids, workers = [], {}
    for queue in queues.values():
        failed = FailedJobRegistry(queue=queue)
        counts["queued"] += queue.count
        counts["running"] += StartedJobRegistry(queue=queue).count
        counts["failed"] += failed.count
        counts["finished"] += FinishedJobRegistry(queue=queue).count
        failed_ids += failed.get_job_ids(start=0, end=RECENT_FAILURES - 1)
        workers.update({w.name: w for w in Worker.all(queue=queue)})
    jobs = [job for job in PortalJob.fetch_many(failed_ids[:RECENT_FAILURES], connection=connection,
                                                serializer=JSONSerializer) if job is not None]
    return {
        "counts": counts,
        "waiting": {priority: queue.count for priority, queue in queues.items()},
        "workers": [
            {"name": w.name, "state": w.get_state(), "job": (w.get_current_job_id() or ""), "host": w.hostname}
            for w in workers.values()
        ],
        "failures": [FailedJob(job.id, job.description or job.func_name, job.ended_at, _last_line(job))
                     for job in jobs],
    }


def _last_line(job: Job) -> str:
    info = job.latest_result().exc_string if job.latest_result() else ""
    lines = [line for line in (info or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
