"""Attendance Notifications Portal: the application factory."""
import logging
import sys
from pathlib import Path

from flask import Flask

from portal.config import check_settings, load_config
from portal.database import engine_options
from portal.exceptions import ConfigurationError
from portal.extensions import csrf, db, limiter, login_manager, mail, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build an app; `config` overrides what the environment says (tests use it)."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    load_settings(app, config or {})
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    configure_logging(app)
    return app


def create_app_or_exit() -> Flask:
    """`create_app` for the entry points (gunicorn, `flask --app wsgi`, worker.py): a setting
    it cannot run with is one line on stderr, naming the setting, not a traceback. Exit
    status 3 is gunicorn's "failed to boot", so it stops instead of restarting workers."""
    try:
        return create_app()
    except ConfigurationError as exc:
        print(f"portal: refusing to start: {exc}", file=sys.stderr)
        raise SystemExit(3) from None


def load_settings(app: Flask, overrides: dict) -> None:
    config_class, settings = load_config(overrides.get("ENV_NAME"))
    settings.update(overrides)
    settings["INSTANCE_PATH"] = app.instance_path = settings.get("INSTANCE_PATH") or app.instance_path
    redis_url = settings["REDIS_URL"] or ""
    settings.setdefault("RATELIMIT_STORAGE_URI", redis_url if redis_url.startswith("redis") else "memory://")
    if not settings.get("SQLALCHEMY_DATABASE_URI"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        settings["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'portal.db'}"
    settings["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(settings)
    config_class.check(settings)
    check_settings(settings)
    app.config.from_mapping(settings)


def register_extensions(app: Flask) -> None:
    from portal import database, languages
    from portal.auth import oidc
    from portal.delivery import queueing

    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    mail.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    limiter.init_app(app)
    queueing.init_app(app)
    oidc.init_app(app)
    languages.init_app(app)


def register_blueprints(app: Flask) -> None:
    from portal import admin, attendance, auth, health, notifications, register, sessions, template_helpers
    from portal.metrics import routes as metrics
    from portal.request_args import IdConverter

    app.url_map.converters["id"] = IdConverter

    for blueprint in (auth.bp, sessions.bp, register.bp, notifications.bp, admin.bp, attendance.bp, health.bp,
                      metrics.bp):
        app.register_blueprint(blueprint)
    if app.config["ENV_NAME"] == "development":
        from portal import dev

        app.register_blueprint(dev.bp)
    template_helpers.init_app(app)


def register_errorhandlers(app: Flask) -> None:
    from portal import errors, security

    errors.init_app(app)
    security.init_app(app)


def register_commands(app: Flask) -> None:
    from portal import cli

    cli.init_app(app)


def configure_logging(app: Flask) -> None:
    from portal import log_redaction

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log_redaction.install()
