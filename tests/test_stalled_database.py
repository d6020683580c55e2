"""A database that accepts connections and never answers: nothing hangs, and the error
page itself never touches the database."""
import socket
import threading
import time

import pytest
from sqlalchemy import text

from portal import create_app


@pytest.fixture
def stalled_server():
    """Accepts TCP connections, reads nothing, answers nothing (a hung database host)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held, stop = [], threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    listener.close()


@pytest.fixture
def stalled_app(app_config, stalled_server):
    app = create_app({**app_config, "DATABASE_CONNECT_TIMEOUT_SECONDS": 1,
                      "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://postgres@127.0.0.1:{stalled_server}/test"})
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer as in production, not raise into the test
    return app


def _timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_healthz_answers_503_within_seconds(stalled_app):
    response, took = _timed(lambda: stalled_app.test_client().get("/healthz"))
    assert response.status_code == 503 and response.get_json()["database"] == "unreachable"
    assert took < 5


def test_a_signed_in_page_shows_an_error_page_instead_of_hanging(stalled_app):
    client = stalled_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1.0"  # loading this user needs the database
    response, took = _timed(lambda: client.get("/sessions"))
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and took < 5
    assert "The database is not answering" in page and "<nav" in page  # the portal's own page, not a bare one
    assert "Sign out" not in page  # rendered as signed out: the user could not be loaded


def test_the_error_page_after_a_database_error_does_not_use_the_broken_transaction(app, people):
    """On PostgreSQL a failed statement aborts the transaction; the error page must roll back
    and not load the signed-in user from it (that gave the server's bare 500 page)."""
    from flask import g

    from portal.extensions import db

    def broken():
        db.session.execute(text("SELECT * FROM no_such_table"))

    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.add_url_rule("/broken-query", "broken_query", broken)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = people["lecturer"].get_id()
    response = client.get("/broken-query")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.get_data(as_text=True)
    g.pop("_login_user", None)  # (pytest-flask shares one app context between requests; production does not)
    assert client.get("/sessions").status_code == 200  # the next request is fine
