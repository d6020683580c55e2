"""The register: who attended, by the one status rule, and the course register.

    statuses.py          the one rule: present, late, excused, absent (and hand marks over it)
    hand_marks.py        a lecturer sets a status by hand; every change kept
    reviews.py           accepting or rejecting a flagged confirmation (no card, position uncertain)
    attendance_report.py one session's evidence and statuses, and its CSV
    devices.py           a short device label from the user agent
    course_register.py   students × sessions of a course, rates, the low-attendance list
    routes.py, forms.py  the course register's pages: /courses/<id>/register[.csv] (blueprint "courses")

The session's own attendance view and hand marks are the sessions blueprint's
(portal/sessions/attendance_routes.py).
"""
from flask import Blueprint

bp = Blueprint("courses", __name__, url_prefix="/courses")

from portal.register import routes  # noqa: E402,F401
