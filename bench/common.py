"""Shared set-up for the benchmarks: databases, an app, students, a local SMTP sink process."""
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import create_engine, event, text

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
BENCH_REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def sqlite_url() -> str:
    return f"sqlite:///{tempfile.mkdtemp(prefix='bench-')}/bench.db"


def postgres_url() -> str:
    """A database of its own (`portal_bench`), created on first use."""
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if not connection.execute(text("SELECT 1 FROM pg_database WHERE datname = 'portal_bench'")).scalar():
            connection.execute(text("CREATE DATABASE portal_bench"))
    admin.dispose()
    return f"{PG_SERVER}/portal_bench"


def make_app(database_url: str, smtp_port: int = 25, **config):
    from portal import create_app
    from portal.extensions import db

    app = create_app({
        "ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": BENCH_REDIS,
        "RQ_QUEUE_NAME": "bench", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_port,
        "MAIL_DEFAULT_SENDER": "attendance@example.edu", "RATELIMIT_ENABLED": False,
        "WTF_CSRF_ENABLED": False, **config,
    })
    with app.app_context():
        db.drop_all()
        db.create_all()
    app.extensions["redis"].flushdb()
    return app


def seed_students(count: int) -> tuple:
    """A program, a course and `count` active students, inserted in bulk. Returns (program, course)."""
    from portal.extensions import db
    from portal.models import Course, Program, StudentProfile, User

    program = Program(code="BENCH", name="Benchmark program")
    course = Course(course_code="B101", course_name="Benchmarking", program=program)
    db.session.add_all([program, course])
    db.session.commit()
    db.session.execute(User.__table__.insert(), [
        {"email": f"student{n}@example.edu", "first_name": f"Student{n}", "last_name": "Bench", "role": "student",
         "is_active": True} for n in range(count)])
    user_ids = db.session.scalars(text("SELECT id FROM users WHERE role = 'student' ORDER BY id")).all()
    db.session.execute(StudentProfile.__table__.insert(), [
        {"user_id": user_id, "student_number": f"B{user_id:07d}", "program_id": program.id, "is_active": True}
        for user_id in user_ids])
    db.session.commit()
    return program, course


def new_session(course, lecturer_id=None):
    from portal.extensions import db
    from portal.models import AttendanceSession

    starts = datetime.now(timezone.utc) + timedelta(minutes=5)
    session = AttendanceSession(course=course, program_id=course.program_id, starts_at=starts,
                                ends_at=starts + timedelta(hours=1), lecturer_id=lecturer_id)
    db.session.add(session)
    db.session.commit()
    return session


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SMTPSink:
    """`bench/smtp_sink.py` in its own process; `received()` lists every recipient it accepted."""

    def __init__(self, delay: float = 0.0):
        self.port = free_port()
        self.file = Path(tempfile.mkstemp(prefix="sink-", suffix=".txt")[1])
        self.delay = delay

    def __enter__(self) -> "SMTPSink":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.smtp_sink", str(self.port), str(self.file), "--delay", str(self.delay)],
            cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout.readline().strip() == "ready"
        return self

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.file.unlink(missing_ok=True)

    def _lines(self) -> list[tuple[float, str]]:
        """The complete lines written so far (the sink may be half way through writing the last one)."""
        text = self.file.read_text()
        complete = text[:text.rfind("\n") + 1]
        return [(float(time_), what)
                for time_, what in (line.split() for line in complete.splitlines() if line.strip())]

    def received(self) -> list[str]:
        return [what for _, what in self._lines() if what != "#connection"]

    def accepted(self) -> list[tuple[float, str]]:
        """(when, recipient) for every message accepted."""
        return [(when, what) for when, what in self._lines() if what != "#connection"]

    def accepted_times(self) -> list[float]:
        return sorted(when for when, _ in self.accepted())

    def connections(self) -> int:
        """Connections opened (each says EHLO once)."""
        return sum(1 for _, what in self._lines() if what == "#connection")

    def reset(self) -> None:
        self.file.write_text("")

    def wait_for(self, count: int, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received()) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the SMTP sink got {len(self.received())} of {count} messages")
            time.sleep(0.01)


def best_of(runs: int, measure) -> float:
    """The fastest of `runs` measurements: the least disturbed by whatever else the machine does."""
    return min(measure() for _ in range(runs))


def median_of(runs: int, measure) -> float:
    return statistics.median(measure() for _ in range(runs))


@contextmanager
def app_context(app):
    with app.app_context():
        yield


def report(title: str, rows: list[tuple], note: str = "") -> None:
    """Print one benchmark: rows of (label, value, unit)."""
    print(f"\n## {title}")
    width = max(len(label) for label, *_ in rows)
    for label, value, unit in rows:
        print(f"  {label:<{width}}  {value:>10.3f} {unit}" if isinstance(value, float) else
              f"  {label:<{width}}  {value:>10} {unit}")
    if note:
        print(f"  {note}")


def worker_env(app, **settings) -> dict:
    """Environment for `python worker.py` processes pointed at the benchmark's services;
    only what the benchmark sets explicitly departs from the defaults."""
    config = app.config
    return {
        **os.environ, "PORTAL_ENV": "testing", "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": config["REDIS_URL"], "RQ_QUEUE_NAME": config["RQ_QUEUE_NAME"],
        "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(config["MAIL_PORT"]),
        "MAIL_DEFAULT_SENDER": config["MAIL_DEFAULT_SENDER"], "MAIL_BATCH_SIZE": str(config["MAIL_BATCH_SIZE"]),
        "PORTAL_BASE_URL": config["PORTAL_BASE_URL"], "SWEEP_INTERVAL_SECONDS": "3600",
        **{name: str(value) for name, value in settings.items()},
    }


@contextmanager
def workers(app, count: int, **settings):
    """`count` idle `python worker.py` processes, ready before the timing starts."""
    env = worker_env(app, **settings)
    processes = [subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for _ in range(count)]
    try:
        from rq import Worker

        deadline = time.monotonic() + 60
        queue = app.extensions["rq_queues"]["urgent"]
        while len(Worker.all(queue=queue)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError("workers did not start")
            time.sleep(0.05)
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def measure_page(app, client, url: str, requests: int) -> tuple[int, float]:
    """(SQL statements of one request, median seconds over `requests`) for a page, after a warm-up."""
    from portal.extensions import db

    with app.app_context():
        engine = db.engine
    client.get(url)  # warm up
    statements = []

    def count(*_):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    assert client.get(url).status_code == 200
    event.remove(engine, "before_cursor_execute", count)
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        assert client.get(url).status_code == 200
        timings.append(time.perf_counter() - started)
    return len(statements), statistics.median(timings)
