from flask import Blueprint

bp = Blueprint("sessions", __name__, url_prefix="/sessions")

from portal.sessions import attendance_routes, routes  # noqa: E402,F401
