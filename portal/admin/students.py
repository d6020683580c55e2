"""Admin pages for students: the directory (search and filters) and editing one student."""
from types import SimpleNamespace

from flask import redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from portal import languages
from portal.admin import bp
from portal.admin.directory import flash_changes
from portal.admin.forms import StudentFilterForm, StudentForm
from portal.admin.routes import all_programs
from portal.exceptions import ValidationError
from portal.models import StudentProfile
from portal.pages import form_page
from portal.repositories import StudentProfileRepository, get_or_404
from portal.request_args import page_arg, record_id
from portal.students import card_codes
from portal.students.editing import update_student


def _stream_choices(programs) -> list[SelectChoice]:
    """Every stream, labelled with its program (the page's script shows the chosen program's)."""
    return [SelectChoice(str(s.id), f"{p.code} · {s.name}", render_kw={"data-program": str(p.id)})
            for p in programs for s in p.streams]


@bp.route("/students")
def students():
    programs = all_programs()
    form = StudentFilterForm(request.args)
    form.program_id.choices = [SelectChoice("", _("All programs"))] + [SelectChoice(str(p.id), p.code) for p in programs]
    form.stream_id.choices = [SelectChoice("", _("All streams"))] + _stream_choices(programs)
    valid = form.validate()
    pagination = StudentProfileRepository().directory_page(
        (form.q.data or "").strip(), record_id(form.program_id.data), record_id(form.stream_id.data),
        {"yes": True, "no": False}.get(form.active.data), page_arg(),
        bouncing=form.email.data == "bouncing") if valid else None
    return form_page("admin/students.html", form, pagination=pagination, masked=card_codes.masked)


@bp.route("/students/<id:profile_id>/edit", methods=["GET", "POST"])
def edit_student(profile_id: int):
    profile = get_or_404(StudentProfile, profile_id)
    form = StudentForm(obj=None if request.method == "POST" else _as_form_data(profile))
    programs = all_programs()
    form.program_id.choices = [SelectChoice(p.id, f"{p.code} — {p.name}") for p in programs]
    form.stream_id.choices = [SelectChoice("", _("No stream"))] + _stream_choices(programs)
    form.language.choices = [SelectChoice("", _("The portal's default (%(language)s)",
                                               language=languages.name(languages.default())))] + [
        SelectChoice(code, languages.name(code)) for code in languages.offered()]
    if form.validate_on_submit():
        try:
            changes = update_student(
                profile, first_name=form.first_name.data, last_name=form.last_name.data, email=form.email.data,
                program_id=form.program_id.data, stream_id=record_id(form.stream_id.data), active=form.active.data,
                card_code=form.card_code.data or "", language=form.language.data or "", by=current_user)
        except ValidationError as exc:
            exc.apply_to(form)
        else:
            flash_changes(profile.user.full_name, changes)
            return redirect(url_for(".students", q=profile.student_number), 303)
    return form_page("admin/student_edit.html", form, profile=profile, masked=card_codes.masked)


def _as_form_data(profile: StudentProfile) -> SimpleNamespace:
    return SimpleNamespace(first_name=profile.user.first_name, last_name=profile.user.last_name,
                           email=profile.user.email, program_id=profile.program_id,
                           stream_id=str(profile.stream_id) if profile.stream_id else "",
                           active=profile.is_active and profile.user.is_active, card_code="",
                           language=profile.language or "")
