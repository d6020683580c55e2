"""Attendance sessions: a lecturer creates, schedules, repeats, changes and cancels them.

    planning.py           SessionRequest, checks, creating a session or a weekly series
    changes.py            editing and cancelling after saving: who is emailed again, whose link ends
    routes.py, forms.py   /sessions, /sessions/new, /sessions/<id> (edit, cancel, send now, progress)
    progress.py           delivery progress of one session (the page's live part)
    timing.py             when a session's last email should leave, in words (and whether too late)
    attendance_routes.py  the lecturer's attendance view and hand marks (/sessions/<id>/attendance)

Emails go out through portal/delivery; statuses and the register are portal/register.
"""
from flask import Blueprint

bp = Blueprint("sessions", __name__, url_prefix="/sessions")

from portal.sessions import attendance_routes, routes  # noqa: E402,F401
