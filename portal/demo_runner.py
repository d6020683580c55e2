"""`make demo`: the whole portal in one process, with nothing else to install or run.

Same code paths as production: the web app serves from a thread, an RQ worker runs
the same jobs in the main thread, and the periodic sweep runs beside it. Without
REDIS_URL the queue is an in-process Redis (fakeredis); without MAIL_SERVER (or
MAIL_RELAYS_FILE) the emails go through two relays of a local SMTP catcher whose
messages the outbox page shows.
"""
import argparse
import json
import os
import secrets
import socket
import threading
from pathlib import Path

from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import make_server

CREDENTIALS_FILE = "demo-credentials.json"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the Attendance Notifications Portal demo.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 5000)))
    args = parser.parse_args(argv)

    os.environ.setdefault("PORTAL_ENV", "development")
    os.environ.setdefault("REDIS_URL", "fakeredis://")
    os.environ.setdefault("PORTAL_BASE_URL", f"http://{args.host}:{args.port}")
    os.environ.setdefault("MAIL_RETRY_DELAYS", "5,15")  # quick retries, so a newcomer sees one
    outbox = None
    catchers = []
    if not os.environ.get("MAIL_SERVER") and not os.environ.get("MAIL_RELAYS_FILE"):
        from portal.dev.outbox import RELAYS, Outbox, relays_file, start_catchers

        outbox, ports = Outbox(secrets.token_urlsafe(12)), [_free_port() for _ in RELAYS]
        catchers = start_catchers(outbox, ports)
        from portal import ROOT

        instance = Path(os.environ.get("PORTAL_INSTANCE_PATH") or ROOT / "instance")
        instance.mkdir(parents=True, exist_ok=True)
        path = instance / "demo-relays.toml"
        path.touch(mode=0o600)
        path.write_text(relays_file(outbox, ports))  # this run's passwords: only its owner reads it
        os.environ["MAIL_RELAYS_FILE"] = str(path)
        os.environ.setdefault("MAIL_PAUSE_PROBE_SECONDS", "15")

    from portal import create_app
    from portal.delivery import jobs, queueing, upkeep

    app = create_app()
    if outbox is not None:
        app.extensions["outbox"] = outbox
    with app.app_context():
        upgrade()
        accounts, password = _demo_accounts(app)
    jobs.bind_app(app)

    server = make_server(args.host, args.port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True, name="web").start()
    stop = threading.Event()
    threading.Thread(target=upkeep.run, args=(app, stop), daemon=True, name="upkeep").start()
    _banner(app, args, accounts, password)
    try:
        worker = queueing.make_worker(app)
        worker.work(with_scheduler=False, logging_level="WARNING")
    finally:
        stop.set()
        server.shutdown()
        for catcher in catchers:
            catcher.stop()


def _demo_accounts(app: Flask) -> tuple[list[tuple[str, str]], str]:
    """Seed an empty database once; the password is kept in instance/ so every start can print it."""
    from portal.demo_data import seed
    from portal.repositories import UserRepository

    path = Path(app.instance_path) / CREDENTIALS_FILE
    if not UserRepository().any():
        password = secrets.token_urlsafe(9)
        accounts = seed(password)
        path.write_text(json.dumps({"accounts": accounts, "password": password}))
        path.chmod(0o600)
    elif path.exists():
        saved = json.loads(path.read_text())
        accounts, password = [tuple(a) for a in saved["accounts"]], saved["password"]
    else:
        accounts, password = [], "(this database was not seeded by the demo; delete instance/ to start afresh)"
    return accounts, password


def _banner(app: Flask, args, accounts, password) -> None:
    url = f"http://{args.host}:{args.port}"
    lines = ["", "Attendance Notifications Portal demo", f"  open        {url}"]
    lines += [f"  {role:<11} {email}  password: {password}" for role, email in accounts] or [
        f"  sign in     {password}"]
    if "outbox" in app.extensions:
        lines.append(f"  outbox      {url}/dev/outbox   (emails land here; click a student's link)")
    else:
        from portal.delivery import relays

        lines.append(f"  emails      sent through {', '.join(str(relay) for relay in relays.configured(app.config))}")
    lines.append(f"  queue       {'in-process' if app.config['REDIS_URL'].startswith('fakeredis') else app.config['REDIS_URL']}")
    lines += ["  stop        Ctrl-C", ""]
    print("\n".join(lines), flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
