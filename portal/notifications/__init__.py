"""/notifications: every email, searchable; one email's history; bulk retry of failed ones.

    routes.py   the pages (the retry goes through NotificationGenerationService)
"""
from flask import Blueprint

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

from portal.notifications import routes  # noqa: E402,F401
