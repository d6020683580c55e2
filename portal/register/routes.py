from flask import Response, current_app, request
from werkzeug.utils import secure_filename

from portal.auth.access import course_or_404, is_admin, staff_required
from portal.models import AttendanceStatus, Course
from portal.pages import form_page
from portal.register import bp
from portal.register.course_register import build_register, register_csv
from portal.register.forms import RegisterFilterForm
from portal.register.statuses import StatusRule


def _filtered(course: Course):
    """The filter form and the register it selects; None for the register when the filters are wrong."""
    form = RegisterFilterForm(request.args)
    form.fill_choices(course)
    if not form.validate():
        return form, None
    starts_from, starts_before = form.bounds
    config = current_app.config
    register = build_register(course.id, StatusRule.from_config(config), config["REGISTER_LOW_ATTENDANCE"],
                              stream_id=form.stream, starts_from=starts_from, starts_before=starts_before)
    return form, register


def _page(course: Course, form, register):
    """The register page; a 400 with the filters' problems when there is no register."""
    return form_page("courses/register.html", form, course=course, register=register,
                     statuses=list(AttendanceStatus), admin=is_admin())


@bp.route("/<id:course_id>/register")
@staff_required
def register(course_id: int):
    """Students by sessions with a status in each cell (admins, and lecturers with a session of the course)."""
    course = course_or_404(course_id)
    return _page(course, *_filtered(course))


@bp.route("/<id:course_id>/register.csv")
@staff_required
def register_download(course_id: int):
    course = course_or_404(course_id)
    form, register = _filtered(course)
    if register is None:
        return _page(course, form, None)
    return Response(register_csv(register), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{secure_filename(f"register-{course.course_code}.csv")}"'})
