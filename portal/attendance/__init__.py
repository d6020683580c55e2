from flask import Blueprint

bp = Blueprint("attendance", __name__)

from portal.attendance import routes  # noqa: E402,F401
