"""The admin pages (/admin/...), one module per page family; each calls a feature's service.

    routes.py          programs and streams, courses, staff accounts, cards, the delivery queue
    directory.py       editing a program, a stream, a course; a staff member's password
    students.py        the student directory and editing one student
    imports.py         the student import and the sync preview
    audit_log.py       the audit trail
    queue_overview.py  what the RQ queues and workers are doing (read-only)
    forms.py           their forms
"""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from portal.admin import audit_log, directory, imports, routes, students  # noqa: E402,F401
