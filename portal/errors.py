"""Error pages in the portal's look (JSON for JSON endpoints), and domain errors mapped to HTTP."""
import logging

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.exceptions import (
    EmailDeliveryError,
    ExpiredTokenError,
    InvalidTokenError,
    SessionNotFoundError,
    TokenGenerationError,
)

log = logging.getLogger(__name__)

TITLES = {
    400: "This request could not be understood",
    403: "You do not have access to this page",
    404: "Page not found",
    405: "That action is not allowed here",
    409: "Already done",
    410: "This link has expired",
    413: "The file is too large",
    429: "Too many requests",
    500: "Something went wrong on our side",
    502: "The mail server could not be reached",
    503: "The service is unavailable",
}

# The seed's mapping of domain errors to HTTP statuses.
DOMAIN_STATUSES = {
    SessionNotFoundError: 404,
    InvalidTokenError: 400,
    ExpiredTokenError: 410,
    TokenGenerationError: 500,
    EmailDeliveryError: 502,
}


def wants_json() -> bool:
    return request.path.endswith("/progress") or request.path == "/healthz" or (
        request.accept_mimetypes.best == "application/json"
    )


STUDENT_MESSAGES = {
    400: "This page was open for too long or could not be read. Open the link from your email again.",
    429: "Too many attempts from this device. Wait a minute, then try again.",
}


def render_error(status: int, message: str | None = None):
    title = TITLES.get(status, "Error")
    if wants_json():
        return jsonify(error=title, message=message, status=status), status
    if request.blueprint == "attendance":  # students get their own plain page, never the staff one
        message = STUDENT_MESSAGES.get(status, message or title)
        return render_template("attendance/problem.html", status=status, message=message), status
    return render_template("errors/error.html", status=status, title=title, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return render_error(400, "The form was missing its security token or it had expired. "
                                 "Go back, reload the page and try again.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        default = type(exc).description
        return render_error(exc.code or 500, exc.description if exc.description != default else None)

    for exc_class, status in DOMAIN_STATUSES.items():
        app.register_error_handler(exc_class, lambda exc, status=status: render_error(status, str(exc)))

    @app.errorhandler(InternalServerError)
    def server_error(exc):
        log.error("unhandled error on %s %s", request.method, request.path, exc_info=exc.original_exception)
        return render_error(500, "The error has been logged. Please try again in a moment.")
