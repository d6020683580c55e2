"""Admin edits of programs, streams, courses and staff passwords: one small page each."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from portal.admin import bp
from portal.admin.forms import CourseEditForm, PasswordForm, ProgramEditForm, StreamEditForm
from portal.admin.routes import all_programs
from portal.exceptions import ValidationError
from portal.extensions import db
from portal.models import Course, Program, Stream, User
from portal.services import directory_service


def flash_changes(label: str, changes: list[str]) -> None:
    flash(f"{label}: " + ("; ".join(changes) if changes else "nothing changed") + ".", "success")


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
    return render_template("admin/edit_item.html", form=form, title=title, back=back), 400 if form.errors else 200


@bp.route("/programs/<id:program_id>/edit", methods=["GET", "POST"])
def edit_program(program_id: int):
    program = db.get_or_404(Program, program_id)
    form = ProgramEditForm(data={"code": program.code, "name": program.name, "active": program.is_active}
                           if request.method == "GET" else None)
    return _edit_page(form, f"Edit program {program.code}", lambda: directory_service.edit_program(
        program, form.code.data, form.name.data, form.active.data, current_user), url_for(".programs"),
        f"Program {program.code}")


@bp.route("/streams/<id:stream_id>/edit", methods=["GET", "POST"])
def edit_stream(stream_id: int):
    stream = db.get_or_404(Stream, stream_id)
    form = StreamEditForm(data={"name": stream.name, "active": stream.is_active} if request.method == "GET" else None)
    title = f"Edit stream {stream.name} of {stream.program.code}"
    return _edit_page(form, title, lambda: directory_service.edit_stream(
        stream, form.name.data, form.active.data, current_user), url_for(".programs"), f"Stream {stream.name}")


@bp.route("/courses/<id:course_id>/edit", methods=["GET", "POST"])
def edit_course(course_id: int):
    course = db.get_or_404(Course, course_id)
    form = CourseEditForm(data={"code": course.course_code, "name": course.course_name,
                                "program_code": course.program.code, "active": course.is_active}
                          if request.method == "GET" else None)
    form.program_code.choices = [SelectChoice(p.code, f"{p.code} — {p.name}") for p in all_programs()]
    return _edit_page(form, f"Edit course {course.course_code}", lambda: directory_service.edit_course(
        course, form.code.data, form.name.data, form.program_code.data, form.active.data, current_user),
        url_for(".courses"), f"Course {course.course_code}")


@bp.route("/staff/<id:user_id>/password", methods=["GET", "POST"])
def staff_password(user_id: int):
    """A new password for a staff member (they forgot theirs, or it leaked): their sessions end."""
    user = db.get_or_404(User, user_id)
    if user.role not in directory_service.STAFF_ROLES:
        abort(404)
    form = PasswordForm()

    def save() -> list[str]:
        directory_service.set_user_password(user, form.new_password.data, by=current_user)
        return ["new password set; every session signed in with the old one has ended"]

    return _edit_page(form, f"Set a new password for {user.full_name}", save, url_for(".staff"), user.full_name)
