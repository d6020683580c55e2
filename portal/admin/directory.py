"""Admin edits of programs, streams, courses and staff passwords: one small page each."""
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from portal import catalog
from portal.admin import bp
from portal.admin.forms import CoursePageForm, PasswordForm, ProgramEditForm, StreamEditForm
from portal.admin.routes import all_programs
from portal.exceptions import ValidationError
from portal.models import Course, Program, Stream, User
from portal.pages import form_page
from portal.repositories import CatalogRepository, get_or_404
from portal.staff import accounts


def flash_changes(label: str, changes: list[str]) -> None:
    """'Course CS201: name "A" → "B".' (the changes as the audit trail records them)."""
    flash(f"{label}: " + ("; ".join(changes) if changes else _("nothing changed")) + ".", "success")


def _edit_page(form, title: str, save, back: str, current_label: str):
    """Validate, save (a function returning the changes in words), flash and go back; or show the form."""
    if form.validate_on_submit():
        try:
            changes = save()
        except ValidationError as exc:
            exc.apply_to(form)
        else:
            flash_changes(current_label, changes)
            return redirect(back, 303)
    return form_page("admin/edit_item.html", form, title=title, back=back)


@bp.route("/programs/<id:program_id>/edit", methods=["GET", "POST"])
def edit_program(program_id: int):
    program = get_or_404(Program, program_id)
    form = ProgramEditForm(data={"code": program.code, "name": program.name, "active": program.is_active}
                           if request.method == "GET" else None)
    return _edit_page(form, _("Edit program %(code)s", code=program.code), lambda: catalog.edit_program(
        program, form.code.data, form.name.data, form.active.data, current_user), url_for(".programs"),
        _("Program %(code)s", code=program.code))


@bp.route("/streams/<id:stream_id>/edit", methods=["GET", "POST"])
def edit_stream(stream_id: int):
    stream = get_or_404(Stream, stream_id)
    form = StreamEditForm(data={"name": stream.name, "active": stream.is_active} if request.method == "GET" else None)
    title = _("Edit stream %(name)s of %(program)s", name=stream.name, program=stream.program.code)
    return _edit_page(form, title, lambda: catalog.edit_stream(
        stream, form.name.data, form.active.data, current_user), url_for(".programs"), _("Stream %(name)s", name=stream.name))


@bp.route("/courses/<id:course_id>", methods=["GET", "POST"])
def course(course_id: int):
    """A course: its name, program and state, and its lecturers (teaching assignments)."""
    course = get_or_404(Course, course_id)
    repository = CatalogRepository()
    assigned = repository.lecturers_of(course.id)
    form = CoursePageForm(data={"code": course.course_code, "name": course.course_name,
                                "program_code": course.program.code, "active": course.is_active,
                                "lecturers": [user.id for user in assigned]} if request.method == "GET" else None)
    form.program_code.choices = [SelectChoice(p.code, f"{p.code} — {p.name}") for p in all_programs()]
    form.lecturers.choices = [SelectChoice(user.id, f"{user.full_name} ({user.email})"
                                           + ("" if user.is_active else _(", deactivated")))
                              for user in repository.assignable(keep={user.id for user in assigned})]
    if form.validate_on_submit():
        try:
            changes = catalog.edit_course(course, form.code.data, form.name.data, form.program_code.data,
                                          form.active.data, current_user, lecturer_ids=form.lecturers.data or [])
        except ValidationError as exc:
            exc.apply_to(form)
        else:
            flash_changes(_("Course %(code)s", code=course.course_code), changes)
            return redirect(url_for(".courses"), 303)
    return form_page("admin/course.html", form, course=course)


@bp.route("/courses/<id:course_id>/edit")
def edit_course(course_id: int):
    """The course's page had this address before it showed the lecturers too."""
    return redirect(url_for(".course", course_id=course_id), 301)


@bp.route("/staff/<id:user_id>/password", methods=["GET", "POST"])
def staff_password(user_id: int):
    """A new password for a staff member (they forgot theirs, or it leaked): their sessions end."""
    user = get_or_404(User, user_id)
    if user.role not in accounts.STAFF_ROLES:
        abort(404)
    form = PasswordForm()

    def save() -> list[str]:
        accounts.set_user_password(user, form.new_password.data, by=current_user)
        return [_("new password set; every session signed in with the old one has ended")]

    return _edit_page(form, _("Set a new password for %(name)s", name=user.full_name), save, url_for(".staff"), user.full_name)
