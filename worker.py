"""Run an RQ worker for the portal's queue, and the periodic sweep.

    python worker.py           # work until stopped (Ctrl-C finishes the current job)
    python worker.py --burst   # drain the queue, then exit

Start as many as you like, on as many machines as you like, against one Redis
and one database: claims in the database keep them from sending twice.
"""
import argparse
import logging
import threading

from dotenv import load_dotenv
from redis.exceptions import RedisError
from rq import SimpleWorker

from portal import create_app
from portal.delivery import jobs
from portal.delivery.queueing import SWEEP_JOB, enqueue_once

log = logging.getLogger("portal.worker")
SWEEP_LOCK = "portal:sweep-lock"


def schedule_sweeps(app, stop: threading.Event) -> None:
    """Every SWEEP_INTERVAL_SECONDS, one worker (whichever takes the lock) queues a sweep."""
    interval = app.config["SWEEP_INTERVAL_SECONDS"]
    while not stop.wait(interval):
        with app.app_context():
            try:
                if app.extensions["redis"].set(SWEEP_LOCK, "1", nx=True, ex=max(1, interval - 1)):
                    enqueue_once(SWEEP_JOB, (), "portal-sweep", at_front=True)
            except RedisError as exc:
                log.warning("could not queue the sweep: %s", exc)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", action="store_true", help="drain the queue, then exit")
    args = parser.parse_args(argv)

    load_dotenv()
    app = create_app()
    jobs.bind_app(app)
    stop = threading.Event()
    if not args.burst:
        threading.Thread(target=schedule_sweeps, args=(app, stop), daemon=True, name="sweep").start()
    # SimpleWorker runs jobs in this process: no fork per job (a job is a whole batch of
    # emails, and forking would cost more than the bookkeeping it isolates).
    worker = SimpleWorker([app.extensions["rq_queue"]], connection=app.extensions["redis"])
    try:
        worker.work(burst=args.burst, with_scheduler=True, logging_level="INFO")
    finally:
        stop.set()


if __name__ == "__main__":
    main()
