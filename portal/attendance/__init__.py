"""The student's side: opening an attendance link and confirming it.

    routes.py        GET and POST /attendance (blueprint "attendance")
    confirmation.py  AttendanceService: what a link stands for, recording attendance once
    position.py      the position check: in the room, uncertain (flagged), too rough or too far
    geo.py           the distance from the session's point
"""
from flask import Blueprint

bp = Blueprint("attendance", __name__)

from portal.attendance import routes  # noqa: E402,F401
