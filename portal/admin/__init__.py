from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from portal.admin import audit_log, directory, imports, routes, students  # noqa: E402,F401
