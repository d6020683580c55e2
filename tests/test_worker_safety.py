"""A writable Redis must not mean code execution on the workers: a worker runs only the
portal's own jobs, reads jobs as JSON (never pickle), and keeps tokens out of what it stores."""
import os

import pytest
from rq import Queue
from rq.job import Callback
from rq.registry import FailedJobRegistry

from portal.delivery import queueing
from portal.delivery.queueing import PortalWorker

pytestmark = pytest.mark.integration  # worker processes on a real Redis


class _Exploit:
    """Unpickling this runs a shell command, which is what RQ's default serializer would do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def _failures(queue) -> dict[str, str]:
    registry = FailedJobRegistry(queue=queue)
    jobs = queueing.PortalJob.fetch_many(registry.get_job_ids(), connection=queue.connection,
                                         serializer=queue.serializer)
    return {job.id: job.latest_result().exc_string for job in jobs}


def test_a_worker_refuses_any_function_but_the_portals_jobs(app, queue, tmp_path):
    marker = tmp_path / "owned"
    queue.enqueue("os.system", f"touch {marker}", job_id="shell")
    queue.enqueue("portal.delivery.jobs.sweep", job_id="with-callback", on_success=Callback("os.system"))
    PortalWorker([queue]).work(burst=True)
    assert not marker.exists()
    failures = _failures(queue)
    assert set(failures) == {"shell", "with-callback"}
    assert "refused to run 'os.system': not one of the portal's jobs" in failures["shell"]
    assert "refused to run 'portal.delivery.jobs.sweep'" in failures["with-callback"]


def test_a_pickled_job_is_never_unpickled(app, queue, tmp_path):
    marker = tmp_path / "owned"
    pickled = Queue(queue.name, connection=queue.connection)  # RQ's default serializer: pickle
    pickled.enqueue("portal.delivery.jobs.send_notifications", _Exploit(marker), job_id="pickled")
    PortalWorker([queue]).work(burst=True)
    assert not marker.exists()
    assert "pickled" in FailedJobRegistry(queue=queue).get_job_ids()


def test_the_portals_jobs_still_run_with_json_arguments(app, queue):
    job = queue.enqueue(queueing.SWEEP_JOB, job_id="sweep-now")
    assert job.get_call_string().startswith("portal.delivery.jobs.sweep(")
    PortalWorker([queue]).work(burst=True)
    job.refresh()
    assert job.get_status() == "finished" and isinstance(job.return_value(), dict)


def test_a_failed_jobs_stored_error_never_holds_a_whole_token(app, queue, monkeypatch):
    from datetime import datetime, timedelta, timezone

    from portal.delivery import jobs
    from portal.services.jwt_service import JWTTokenService

    token = JWTTokenService.from_config(app.config).generate_token(1, 2, datetime.now(timezone.utc) + timedelta(hours=1))

    def broken_sweep():
        raise ValueError(f"could not process row with token {token}")

    monkeypatch.setattr(jobs, "run_sweep", broken_sweep)
    queue.enqueue(queueing.SWEEP_JOB, job_id="broken-sweep")
    PortalWorker([queue]).work(burst=True)
    stored = _failures(queue)["broken-sweep"]
    assert "could not process row with token" in stored
    assert token not in stored and token[:12] + "…[redacted]" in stored


def test_a_process_that_ignores_sigterm_is_ended_with_everything_it_started(tmp_path):
    """The tests' own process handling: a worker stuck in a job (SIGTERM waits for it) and
    a child it started both end, so no process outlives its test to take a later run's jobs."""
    import os
    import sys
    import time

    from tests.support import end_process, spawn

    script = ("import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
              "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
              "print(child.pid, flush=True); time.sleep(600)")
    process = spawn([sys.executable, "-c", script], dict(os.environ), tmp_path / "stubborn.log")
    deadline = time.monotonic() + 20
    while not (tmp_path / "stubborn.log").read_text().strip() and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int((tmp_path / "stubborn.log").read_text().split()[0])
    started = time.monotonic()
    end_process(process, grace=1)
    assert time.monotonic() - started < 10
    assert process.poll() is not None
    time.sleep(0.2)
    assert not os.path.exists(f"/proc/{child}") or open(f"/proc/{child}/stat").read().split()[2] == "Z"


CALLED = []


def forged_callback(*args):
    """What a job written into Redis by someone else could name as its callback."""
    CALLED.append(args)


def test_a_callback_named_in_redis_is_never_imported_or_called(app, queue):
    """RQ imports and calls a failed job's failure callback in the worker, and an abandoned job's
    when a registry cleans up (which /admin/queue's counts do in the web process)."""
    from rq.callbacks import execute_failure_callback
    from rq.timeouts import UnixSignalDeathPenalty

    CALLED.clear()
    named = Callback("tests.test_worker_safety.forged_callback")
    queue.enqueue("os.system", "true", job_id="fails-with-callback", on_failure=named, on_stopped=named)
    PortalWorker([queue]).work(burst=True)
    assert "fails-with-callback" in FailedJobRegistry(queue=queue).get_job_ids()
    job = queueing.PortalJob.fetch("fails-with-callback", connection=queue.connection, serializer=queue.serializer)
    assert job._failure_callback_name.endswith("forged_callback")  # it is there, and ignored
    assert job.failure_callback is None and job.success_callback is None and job.stopped_callback is None
    execute_failure_callback(job, UnixSignalDeathPenalty, RuntimeError, RuntimeError("x"), None)  # a registry's clean-up
    assert CALLED == []
