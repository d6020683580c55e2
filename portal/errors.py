"""Error pages in the portal's look (JSON for JSON endpoints), and the one place where
domain errors become HTTP answers (DOMAIN_ERRORS). Services raise domain errors and never
choose a status."""
import logging

from flask import Flask, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.exceptions import (
    AlreadyRecordedError,
    AttendanceError,
    AttendanceRefusedError,
    ConflictError,
    DetailsMissingError,
    GoneError,
    LinkExpiredError,
    LinkNotValidError,
    LinkTargetGoneError,
    LinkWithdrawnError,
    NotOpenYetError,
    SignInRefusedError,
    TryAgainError,
    ValidationError,
)
from portal.extensions import db, login_manager

log = logging.getLogger(__name__)

TITLES = {
    400: _l("This request could not be understood"),
    403: _l("You do not have access to this page"),
    404: _l("Page not found"),
    405: _l("That action is not allowed here"),
    409: _l("Already done"),
    410: _l("This link no longer works"),
    413: _l("The file is too large"),
    429: _l("Too many requests"),
    500: _l("Something went wrong on our side"),
    503: _l("The service is unavailable"),
}

# Every domain error that can reach a view, and its status; the page shows its message.
# (Forms catch ValidationError to show it on their fields; one that escapes is a 400.)
# The token and delivery errors of the seed never reach a view: the attendance service
# turns a bad or expired token into the student's LinkNotValidError or LinkExpiredError,
# and generation and delivery run in workers.
DOMAIN_ERRORS: dict[type[Exception], int] = {
    ValidationError: 400,
    SignInRefusedError: 401,  # the sign-in page answers it itself (status_of), and the lockout counts it
    LinkNotValidError: 400,
    AttendanceRefusedError: 400,
    DetailsMissingError: 400,  # before TryAgainError: the first match decides
    NotOpenYetError: 403,
    TryAgainError: 403,  # too far, position too rough, not your card
    LinkTargetGoneError: 404,
    AlreadyRecordedError: 409,
    ConflictError: 409,  # SessionCancelledError, NotScheduledError, PlanChanged
    GoneError: 410,  # PreviewExpiredError
    LinkExpiredError: 410,
    LinkWithdrawnError: 410,
}


def status_of(exc: Exception) -> int:
    """The status DOMAIN_ERRORS gives this domain error, for a view that answers it with a page
    of its own (the sync preview shown again when the plan changed, say)."""
    return next(status for error, status in DOMAIN_ERRORS.items() if isinstance(exc, error))


def wants_json() -> bool:
    return request.path.endswith("/progress") or request.path == "/healthz" or (
        request.accept_mimetypes.best == "application/json"
    )


# What a student reads instead of the staff wording, for errors that are not the link's own.
STUDENT_MESSAGES = {
    400: _l("This page was open for too long or could not be read. Open the link from your email again."),
    429: _l("Too many attempts from this device. Wait a minute, then try again."),
}


def _for_the_reader(status: int, message: str | None) -> str | None:
    """Students (the attendance pages) get their own words for generic errors."""
    return STUDENT_MESSAGES.get(status, message) if request.blueprint == "attendance" else message


def render_error(status: int, message: str | None = None, *, refusal: AttendanceError | None = None):
    """The error page (or JSON) for `status`. `refusal`: why a student's link was refused, for
    their page's way forward. After a server fault the caller has already dropped the database
    (see _without_the_database)."""
    title = str(TITLES.get(status) or _("Error"))
    message = str(message) if message else None  # a lazily translated text, worded in the page's language now
    if wants_json():
        return jsonify(error=title, message=message, status=status), status
    if request.blueprint == "attendance":  # students get their own plain page, never the staff one
        return render_template("attendance/problem.html", status=status, message=message or title,
                               refusal=refusal, token=request.values.get("token", "")), status
    return render_template("errors/error.html", status=status, title=title, message=message), status


def _without_the_database() -> None:
    """A server error may have left the session mid-transaction or its connection dead.
    Roll back, and render the page as for a visitor who is not signed in: the page must
    not load the signed-in user (or anything else) from a database that just failed."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        pass  # the connection is gone; the session is reset all the same
    g._login_user = login_manager.anonymous_user()


def _database_unavailable(exc: Exception) -> bool:
    """The database did not answer (down, stalled, timed out, locked, no free connection),
    as opposed to a bug. SQLite calls a missing table an OperationalError too: that stays a 500."""
    if isinstance(exc, PoolTimeoutError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    if exc.connection_invalidated or type(exc.orig).__module__.startswith("psycopg"):
        return True
    return any(sign in str(exc.orig).lower() for sign in ("locked", "unable to open", "disk i/o"))


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return render_error(400, _for_the_reader(400, _("The form was missing its security token or it had "
                                                        "expired. Go back, reload the page and try again.")))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        default = type(exc).description
        status = exc.code or 500
        return render_error(status, _for_the_reader(status, exc.description if exc.description != default else None))

    for exc_class, status in DOMAIN_ERRORS.items():
        app.register_error_handler(exc_class, lambda exc, status=status: render_error(
            status, str(exc), refusal=exc if isinstance(exc, AttendanceError) else None))

    @app.errorhandler(StaleDataError)
    def changed_meanwhile(exc):
        """A change written over a session someone else changed a moment before (its version moved)."""
        db.session.rollback()
        return render_error(DOMAIN_ERRORS[ConflictError], _("This was changed by someone else a moment ago. "
                                                            "Reload the page, check it, and try again."))

    @app.errorhandler(InternalServerError)
    def server_error(exc):
        _without_the_database()  # before any text is worded: choosing its language may load the signed-in user
        original = exc.original_exception
        if original is not None and _database_unavailable(original):
            log.warning("database unavailable on %s %s: %s", request.method, request.path,
                        str(original).splitlines()[0][:200])
            return render_error(503, _("The database is not answering. Please try again in a minute."))
        log.error("unhandled error on %s %s", request.method, request.path, exc_info=original)
        return render_error(500, _("The error has been logged. Please try again in a moment."))
