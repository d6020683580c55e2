"""Fixtures, and the two tiers of the suite.

- **fast** (`make test-fast`): an app on the test database with an in-process Redis
  (fakeredis) and no mail server; nothing outside this process but the database.
- **integration** (marker): a real Redis, real SMTP servers (aiosmtpd), worker processes;
  **browser** (marker, a part of integration): Chromium and the page checkers (Java).

A test is marked `integration` when it uses a fixture in INTEGRATION_FIXTURES (or says so
with `@pytest.mark.integration`), `browser` when it uses a browser fixture; its `app` then
gets the real Redis and an SMTP server. The schema is created once per run; every test
starts with empty tables.
"""
import logging
import os
import re
import uuid
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import inspect

import portal.config
from portal import create_app
from portal.extensions import db
from portal.log_redaction import JWT_PATTERN
from portal.models import Course, Role
from tests.factories import assign, make_course, make_program, make_session, make_staff
from tests.smtp_servers import SMTPServer, free_port
from tests.support import Auth, end_started_processes, queueing_worker

pytest_plugins = ("tests.browser",)  # the browser tests' fixtures

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
INTEGRATION_FIXTURES = {"smtp_server", "run_worker", "worker", "real_redis"}
BROWSER_FIXTURES = {"browser", "chromium", "page", "portal_url", "html_checker"}


def pytest_configure(config):
    """The portal reads its settings from the environment; a test run reads none of them, so a
    developer's shell (PORTAL_TIMEZONE, MAIL_RATE_LIMIT, ...) cannot change what a test sees.
    Worker processes the tests start get their settings from `support.env_for`."""
    source = Path(portal.config.__file__).read_text()
    for name in set(re.findall(r'(?:os\.environ\.get|_env_\w+)\("([A-Z0-9_]+)"', source)):
        os.environ.pop(name, None)


def pytest_collection_modifyitems(items):
    for item in items:
        used = set(item.fixturenames)
        if used & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
        if used & (INTEGRATION_FIXTURES | BROWSER_FIXTURES):
            item.add_marker(pytest.mark.integration)


def is_integration(request) -> bool:
    return request.node.get_closest_marker("integration") is not None


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


@pytest.fixture(autouse=True)
def every_process_ends():
    """Worker or demo processes a test started are ended when it ends, even if it failed."""
    yield
    end_started_processes()


@pytest.fixture
def smtp_server():
    with SMTPServer() as server:
        yield server


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """One database for the run: TEST_DATABASE_URL (PostgreSQL in CI), else a SQLite file."""
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal-test.db'}"


@pytest.fixture
def app_config(request, database_url) -> dict:
    """The settings of the test's app. Every setting a test depends on is here (the rest are
    the defaults: the environment is cleared, see pytest_configure)."""
    config = {
        "ENV_NAME": "testing",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RQ_QUEUE_NAME": f"test-{uuid.uuid4().hex[:8]}",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_DEFAULT_SENDER": "attendance@example.edu",
        "MAIL_TIMEOUT_SECONDS": 2,
        "MAIL_CONNECTIONS": 1,  # tests that need more say so
        "MAIL_RETRY_DELAYS": [0, 1],  # a second try at once; later ones need worker.py's retry poll
        "PORTAL_BASE_URL": "https://portal.example.edu",
        "PORTAL_TIMEZONE": "UTC",
        "WTF_CSRF_ENABLED": False,
    }
    if is_integration(request):
        config.update(REDIS_URL=TEST_REDIS_URL, MAIL_PORT=request.getfixturevalue("smtp_server").port)
    else:  # no Redis server, and nobody listening for mail: a fast test that sends fails loudly
        config.update(REDIS_URL="fakeredis://", MAIL_PORT=free_port())
    return config


_schemas_made: set[str] = set()


def empty_tables() -> None:
    """The schema once per run (and again if a test dropped it), then every row deleted."""
    url = str(db.engine.url)
    if url not in _schemas_made or not inspect(db.engine).has_table("users"):
        db.drop_all()
        db.create_all()
        _schemas_made.add(url)
        return
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    with app.app_context():
        empty_tables()
    app.extensions["redis"].flushdb()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def real_redis(app) -> Redis:
    """The real Redis server the integration tests share (TEST_REDIS_URL)."""
    return app.extensions["redis"]


@pytest.fixture
def queue(app):
    """The queue of classes starting now (where the tests' sessions go)."""
    return app.extensions["rq_queues"]["urgent"]


@pytest.fixture
def run_worker(app, smtp_server):
    """Drain the queues with an in-process RQ worker (real Redis, real jobs, the test's relay)."""
    return queueing_worker(app)


@pytest.fixture
def course(app) -> Course:
    """A course in program CS (one stream, A): what the delivery tests send for."""
    return make_course(make_program("CS", streams=("A",)))


@pytest.fixture
def auth(client) -> Auth:
    return Auth(client)


@pytest.fixture
def people(app) -> dict:
    """An admin, two lecturers, a course taught by the first, and one session owned by each
    lecturer (the other's from before they stopped teaching it, say)."""
    admin = make_staff("admin@example.edu", Role.ADMIN, name=("Ada", "Admin"))
    lecturer = make_staff("lecturer@example.edu", Role.LECTURER)
    other = make_staff("other@example.edu", Role.LECTURER, name=("Olu", "Other"))
    course = make_course(make_program("CS", streams=("A", "B")))
    assign(course, lecturer)
    return {
        "admin": admin,
        "lecturer": lecturer,
        "other": other,
        "course": course,
        "own_session": make_session(course, lecturer=lecturer),
        "other_session": make_session(course, lecturer=other),
    }


@pytest.fixture
def cli(app):
    """Run a `flask --app wsgi` command in this app (its exit code and output)."""
    runner = app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=list(args))

    return invoke
