"""Run an RQ worker for the portal's queue, and the periodic sweep.

    python worker.py           # work until stopped (Ctrl-C finishes the current job)
    python worker.py --burst   # drain the queue, then exit

Start as many as you like, on as many machines as you like, against one Redis
and one database: claims in the database keep them from sending twice.
"""
import argparse
import threading

from dotenv import load_dotenv

from portal import create_app_or_exit
from portal.delivery import jobs, queueing, upkeep
from portal.delivery.connections import POOL


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", action="store_true", help="drain the queue, then exit")
    args = parser.parse_args(argv)

    load_dotenv()
    app = create_app_or_exit()
    jobs.bind_app(app)
    stop = threading.Event()
    if not args.burst:
        threading.Thread(target=upkeep.run, args=(app, stop), daemon=True, name="upkeep").start()
    # The worker runs the portal's own jobs only, in this process (see queueing.PortalWorker).
    # No RQ scheduler: retries wait in the database and the upkeep thread queues them when
    # due (a forked scheduler process would also inherit this worker's open SMTP connections).
    worker = queueing.make_worker(app)
    try:
        worker.work(burst=args.burst, with_scheduler=False, logging_level="INFO")
    finally:
        stop.set()
        POOL.close_idle(older_than=0)  # say goodbye to the relay and free our connection slots


if __name__ == "__main__":
    main()
