from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from portal.admin import imports, routes, students  # noqa: E402,F401
