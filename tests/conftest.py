"""Fixtures: a fresh app and database per test, real Redis, real SMTP servers, workers."""
import logging
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from contextlib import contextmanager, suppress
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import g
from redis import Redis
from rq import Queue
from sqlalchemy import select

from portal import create_app
from portal.delivery import queueing
from portal.extensions import db
from portal.log_redaction import JWT_PATTERN
from portal.models import AttendanceSession, Course, EmailNotification, Program, Role, Stream, StudentProfile, User
from portal.services import session_service
from portal.services.jwt_service import JWTTokenService
from portal.services.notification_generation_service import NotificationGenerationService
from tests.smtp_servers import SMTPServer

pytest_plugins = ("tests.browser",)  # the browser tests' fixtures

ROOT = Path(__file__).resolve().parent.parent
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def database_url(tmp_path: Path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'portal-test.db'}"


@pytest.fixture(autouse=True)
def no_token_in_logs(caplog, tmp_path):
    """Every test: no log line, captured here or written by a worker or demo subprocess
    (their `*.log` files in tmp_path), may carry a whole attendance token."""
    caplog.set_level(logging.INFO)
    yield
    lines = [r.getMessage() for r in caplog.records]
    lines += [line for log in tmp_path.glob("*.log") for line in log.read_text(errors="replace").splitlines()]
    leaked = [line for line in lines if JWT_PATTERN.search(line)]
    assert not leaked, f"a token reached the logs: {leaked[0][:120]}"


@pytest.fixture
def smtp_server():
    with SMTPServer() as server:
        yield server


@pytest.fixture
def app_config(tmp_path, smtp_server) -> dict:
    return {
        "ENV_NAME": "testing",
        "SQLALCHEMY_DATABASE_URI": database_url(tmp_path),
        "REDIS_URL": TEST_REDIS_URL,
        "RQ_QUEUE_NAME": f"test-{uuid.uuid4().hex[:8]}",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_server.port,
        "MAIL_DEFAULT_SENDER": "attendance@example.edu",
        "MAIL_TIMEOUT_SECONDS": 2,
        "MAIL_CONNECTIONS": 1,  # tests that need more say so
        "MAIL_RETRY_DELAYS": [0, 1],  # a second try at once; later ones need worker.py's retry poll
        "PORTAL_BASE_URL": "https://portal.example.edu",
        "WTF_CSRF_ENABLED": False,
    }


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    with app.app_context():
        db.drop_all()
        db.create_all()
    Redis.from_url(TEST_REDIS_URL).flushdb()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def queue(app):
    """The queue of classes starting now (where the tests' sessions go)."""
    return app.extensions["rq_queues"]["urgent"]


@pytest.fixture
def run_worker(app):
    """Drain the queues with an in-process RQ worker (real Redis, real jobs)."""

    def run() -> None:
        queueing.make_worker(app).work(
            burst=True, with_scheduler=False)
        db.session.expire_all()

    return run


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


def env_for(app) -> dict:
    """Environment for `python worker.py` subprocesses pointed at this test's services."""
    config = app.config
    return {
        **os.environ,
        "PORTAL_ENV": "testing",
        "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": config["REDIS_URL"],
        "RQ_QUEUE_NAME": config["RQ_QUEUE_NAME"],
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
    }


# --- processes -------------------------------------------------------------

_started: list[subprocess.Popen] = []  # every process a test started; all ended when it ends


def spawn(args: list[str], env: dict, log_path: Path) -> subprocess.Popen:
    """A child process in a process group of its own (so it and anything it starts end
    together), with its output in `log_path`; `every_process_ends` ends it after the test
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


@pytest.fixture(autouse=True)
def every_process_ends():
    yield
    while _started:
        end_process(_started.pop(), grace=5)


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


# --- factories -------------------------------------------------------------


def make_program(code="CS", streams=("A", "B")) -> Program:
    program = Program(code=code, name=f"Program {code}", streams=[Stream(name=s) for s in streams])
    db.session.add(program)
    db.session.commit()
    return program


def make_course(program: Program, code="CS201", name="Data Structures") -> Course:
    course = Course(course_code=code, course_name=name, program=program)
    db.session.add(course)
    db.session.commit()
    return course


def make_students(program: Program, count: int, stream: Stream | None = None, active=True, prefix=None,
                  email_for=None) -> list[StudentProfile]:
    prefix = prefix or f"{program.code}-{stream.name if stream else 'x'}-{uuid.uuid4().hex[:4]}"
    profiles = []
    for n in range(count):
        email = email_for(n) if email_for else f"{prefix}-{n}@example.edu".lower()
        user = User(email=email, first_name=f"First{n}", last_name="Student", role=Role.STUDENT, is_active=True)
        profiles.append(StudentProfile(user=user, student_number=f"{prefix}-{n}", program=program, stream=stream,
                                       is_active=active))
    db.session.add_all(profiles)
    db.session.commit()
    return profiles


def make_staff(email="lecturer@example.edu", role=Role.LECTURER, password="correct horse battery",
               name=("Lee", "Lecturer")) -> User:
    user = User(email=email, first_name=name[0], last_name=name[1], role=role, is_active=True)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def make_session(course: Course, stream: Stream | None = None, starts_in=timedelta(minutes=5),
                 length=timedelta(hours=1), **fields) -> AttendanceSession:
    starts_at = datetime.now(timezone.utc).replace(microsecond=0) + starts_in
    session = AttendanceSession(course=course, program=course.program, stream=stream, starts_at=starts_at,
                                ends_at=starts_at + length, **fields)
    db.session.add(session)
    db.session.commit()
    return session


def make_notification(session: AttendanceSession, student: StudentProfile, status="pending") -> EmailNotification:
    notification = EmailNotification(session=session, student_profile=student, token=f"tok-{uuid.uuid4().hex}",
                                      token_expires_at=session.starts_at + timedelta(hours=1), status=status)
    db.session.add(notification)
    db.session.commit()
    return notification


def next_clock_change(zone: str, direction: str, after: date | None = None) -> date:
    """The next day after `after` (default: tomorrow) on which `zone`'s clocks go "forward" or "back",
    so tests of clock changes never depend on the year they run in."""
    day, tz = (after or date.today()) + timedelta(days=1), ZoneInfo(zone)
    for _ in range(400):
        before, after_change = (datetime(day.year, day.month, day.day, hour, tzinfo=tz).utcoffset() for hour in (0, 23))
        if (after_change > before) if direction == "forward" else (after_change < before):
            return day
        day += timedelta(days=1)
    raise AssertionError(f"{zone} has no clock change {direction} within 400 days")


# --- pipeline helpers ----------------------------------------------------------


@pytest.fixture
def course(app) -> Course:
    """A course in program CS (one stream, A): what the delivery tests send for."""
    return make_course(make_program("CS", streams=("A",)))


def create_session(course, stream=None) -> tuple[AttendanceSession, bool]:
    starts_at = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=10)
    request = session_service.SessionRequest(
        course_id=course.id, program_id=course.program_id, stream_id=stream.id if stream else None,
        lecturer_id=None, starts_at=starts_at, ends_at=starts_at + timedelta(hours=1),
    )
    session = session_service.create_session(request)
    return session, queueing.enqueue_generation(session.id, session.starts_at)


def statuses(session_id=None) -> Counter:
    db.session.expire_all()
    query = select(EmailNotification.status)
    if session_id is not None:
        query = query.where(EmailNotification.session_id == session_id)
    return Counter(db.session.scalars(query))


def emails_of(profiles) -> list[str]:
    return sorted(p.user.email for p in profiles)


def wait_for(predicate, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# --- web helpers -------------------------------------------------------------

PASSWORD = "correct horse battery"


class Auth:
    """Signs a test client in and out, like the `auth` fixture of Flask's tutorial."""

    def __init__(self, client):
        self.client = client

    def login(self, email: str, password: str = PASSWORD):
        g.pop("_login_user", None)  # a user another test client loaded in the shared app context (see opens_pages)
        return self.client.post("/login", data={"email": email, "password": password})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client) -> Auth:
    return Auth(client)


@pytest.fixture
def people(app) -> dict:
    """An admin, two lecturers, a course, and one session owned by each lecturer."""
    admin = make_staff("admin@example.edu", Role.ADMIN, name=("Ada", "Admin"))
    lecturer = make_staff("lecturer@example.edu", Role.LECTURER)
    other = make_staff("other@example.edu", Role.LECTURER, name=("Olu", "Other"))
    course = make_course(make_program("CS", streams=("A", "B")))
    return {
        "admin": admin,
        "lecturer": lecturer,
        "other": other,
        "course": course,
        "own_session": make_session(course, lecturer=lecturer),
        "other_session": make_session(course, lecturer=other),
    }


def link_for(app, session, profile) -> str:
    """Prepare the session's notifications; the student's link (the token of their email)."""
    NotificationGenerationService(JWTTokenService.from_config(app.config)).generate_notifications_for_session(session.id)
    return db.session.scalar(select(EmailNotification.token).where(
        EmailNotification.session_id == session.id, EmailNotification.student_profile_id == profile.id))


@pytest.fixture
def cli(app):
    """Run a `flask --app wsgi` command in this app (its exit code and output)."""
    runner = app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=list(args))

    return invoke


def tomorrow() -> str:
    return (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%d")


def newest_session() -> AttendanceSession | None:
    """The session saved last (fresh from the database)."""
    db.session.expire_all()
    return db.session.scalar(select(AttendanceSession).order_by(AttendanceSession.id.desc()))


def error_next_to(html: str, field: str) -> str:
    match = re.search(rf'id="{field}-error">([^<]*)<', html)
    assert match, f"no error shown next to {field}"
    return match.group(1)


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
