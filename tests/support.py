"""What tests use besides data: processes they start (workers, the demo), waiting for
something to happen, signing in, and pointing an app at other services."""
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager, suppress
from pathlib import Path

from flask import g
from redis import Redis
from rq import Queue

from portal.extensions import db
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parent.parent


# --- processes -------------------------------------------------------------

_started: list[subprocess.Popen] = []  # every process a test started; all ended when it ends


def spawn(args: list[str], env: dict, log_path: Path) -> subprocess.Popen:
    """A child process in a process group of its own (so it and anything it starts end
    together), with its output in `log_path`; `end_started_processes` ends it after the test
    even if the test fails before it could."""
    with open(log_path, "ab") as log:
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    _started.append(process)
    return process


def end_process(process: subprocess.Popen, how: int = signal.SIGTERM, grace: float = 20) -> None:
    """Stop `process` as an operator would (SIGTERM: a worker finishes its job first), and
    kill its whole group if it has not ended within `grace` seconds."""
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, how)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # the process if it is still there, and anything it left
    process.wait(timeout=10)


def end_started_processes() -> None:
    while _started:
        end_process(_started.pop(), grace=5)


def env_for(app) -> dict:
    """Environment for `python worker.py` subprocesses pointed at this test's services."""
    config = app.config
    if config["REDIS_URL"].startswith("fakeredis"):
        raise AssertionError("a worker process needs a real Redis: mark the test `integration`")
    return {
        **os.environ,
        "PORTAL_ENV": "testing",
        "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": config["REDIS_URL"],
        "RQ_QUEUE_NAME": config["RQ_QUEUE_NAME"],
        "PORTAL_TIMEZONE": config["PORTAL_TIMEZONE"],
        "PORTAL_LANGUAGES": ",".join(config["PORTAL_LANGUAGES"]),
        "PORTAL_DEFAULT_LANGUAGE": config["PORTAL_DEFAULT_LANGUAGE"],
        "MAIL_SERVER": config["MAIL_SERVER"],
        "MAIL_PORT": str(config["MAIL_PORT"]),
        "MAIL_DEFAULT_SENDER": config["MAIL_DEFAULT_SENDER"],
        "MAIL_TIMEOUT_SECONDS": str(config["MAIL_TIMEOUT_SECONDS"]),
        "MAIL_RETRY_DELAYS": ",".join(map(str, config["MAIL_RETRY_DELAYS"])),
        "MAIL_BATCH_SIZE": str(config["MAIL_BATCH_SIZE"]),
        "MAIL_CONNECTIONS": str(config["MAIL_CONNECTIONS"]),
        "PORTAL_BASE_URL": config["PORTAL_BASE_URL"],
        "SENDING_TIMEOUT_SECONDS": str(config["SENDING_TIMEOUT_SECONDS"]),
        "MAIL_MAX_CONNECTIONS": str(config["MAIL_MAX_CONNECTIONS"] or 0),
        "MAIL_RATE_LIMIT": config["MAIL_RATE_LIMIT"],
        "MAIL_PAUSE_PROBE_SECONDS": str(config["MAIL_PAUSE_PROBE_SECONDS"]),
        "MAIL_USERNAME": config["MAIL_USERNAME"] or "",
        "MAIL_PASSWORD": config["MAIL_PASSWORD"] or "",
        "MAIL_RELAYS_FILE": config.get("MAIL_RELAYS_FILE") or "",
        "MAIL_RETURN_PATH": config.get("MAIL_RETURN_PATH") or "",
        "BOUNCE_IMAP_URL": config.get("BOUNCE_IMAP_URL") or "",
    }


def use_relays(app, path: Path, *tables: dict) -> None:
    """Send through several relays: `tables` written as a MAIL_RELAYS_FILE and read as the portal does
    at start-up (worker processes started with `env_for` read the same file)."""
    from portal.delivery import relays

    path.write_text(relays.as_toml(list(tables)))
    app.config["MAIL_RELAYS_FILE"] = str(path)
    app.config["MAIL_RELAYS"] = relays.read_file(str(path))


def burst_workers_over_queued_jobs(app, course, count: int, log_dir: Path):
    """Create a session for `course` whose send jobs are all queued before any worker starts, then
    run `count` `python worker.py --burst` processes until the queue is empty. The session."""
    import pytest

    from portal.delivery.jobs import generate_notifications
    from tests.factories import create_session

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("portal.delivery.queueing.enqueue_generation", lambda *args: True)
        session, _ = create_session(course)
    generate_notifications(session.id)  # every send job queued before the workers start
    workers = [start_worker(env_for(app), log_dir / f"worker{n}.log") for n in range(count)]
    for worker in workers:
        assert worker.wait(timeout=120) == 0
    return session


def start_worker(env: dict, log_path: Path, burst: bool = True) -> subprocess.Popen:
    """`python worker.py` as a real process; its output goes to `log_path`."""
    return spawn([sys.executable, str(ROOT / "worker.py")] + (["--burst"] if burst else []), env, log_path)


@contextmanager
def running_worker(app, log_path: Path):
    """`python worker.py` (not burst) for the duration of the block, then stopped as an
    operator would (SIGTERM: the current job finishes first)."""
    process = start_worker(env_for(app), log_path, burst=False)
    try:
        yield process
    finally:
        end_process(process)


def wait_for(predicate, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# --- the app's services ---------------------------------------------------------


@contextmanager
def queue_down(app):
    """Within the block, the app's queue points at a port where no Redis listens."""
    names = ("redis", "rq_queues")
    live = {name: app.extensions[name] for name in names}
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    app.extensions["redis"] = dead
    app.extensions["rq_queues"] = {p: Queue(q.name, connection=dead) for p, q in live["rq_queues"].items()}
    try:
        yield
    finally:
        app.extensions.update(live)


def point_mail_at(app, port: int) -> None:
    """Send this app's mail (in-process and in worker subprocesses) to another local server."""
    app.config["MAIL_PORT"] = port
    app.extensions["mail"].port = port


# --- web -------------------------------------------------------------------------


class Auth:
    """Signs a test client in and out, like the `auth` fixture of Flask's tutorial."""

    def __init__(self, client):
        self.client = client

    def login(self, email: str, password: str = PASSWORD):
        g.pop("_login_user", None)  # a user another test client loaded in the shared app context (see opens_pages)
        return self.client.post("/login", data={"email": email, "password": password})

    def logout(self):
        return self.client.post("/logout")


def opens_pages(browser) -> bool:
    """Whether this browser's cookie still opens a staff page. The test clients share the
    test's app context (pytest-flask), where Flask-Login caches the user it loaded, and the
    test's database session; a real request starts with neither."""
    g.pop("_login_user", None)
    db.session.expire_all()
    response = browser.get("/sessions")
    g.pop("_login_user", None)  # the next request loads its own browser's user again
    assert response.status_code in (200, 302)
    return response.status_code == 200


def error_next_to(html: str, field: str) -> str:
    match = re.search(rf'id="{field}-error">([^<]*)<', html)
    assert match, f"no error shown next to {field}"
    return match.group(1)


def queueing_worker(app):
    """A function that drains the app's queues with an in-process RQ worker (real jobs)."""
    from portal.delivery import queueing

    def run() -> None:
        queueing.make_worker(app).work(burst=True, with_scheduler=False)
        db.session.expire_all()

    return run
