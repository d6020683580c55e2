"""Admin pages: programs and streams, courses, staff accounts, student import and cards, the queue."""
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from redis.exceptions import RedisError
from wtforms import SelectChoice

from portal import audit, catalog
from portal.admin import bp
from portal.admin.forms import CourseForm, ProgramForm, StaffForm, StreamForm
from portal.admin.queue_overview import queue_overview
from portal.auth.access import admin_required
from portal.delivery import control, queueing
from portal.delivery.backlog import backlog
from portal.delivery.sweep import describe
from portal.exceptions import ValidationError
from portal.models import Program, StudentProfile, User
from portal.pages import form_page
from portal.repositories import CatalogRepository, StudentProfileRepository, get_or_404
from portal.request_args import id_arg
from portal.staff import account_emails, accounts, password_links
from portal.staff.accounts import STAFF_ROLES
from portal.students import card_codes


@bp.before_request
@admin_required
def only_admins():
    """Every page here is for admins; the decorator answers for anyone else."""


def all_programs() -> list[Program]:
    return CatalogRepository().programs()


@bp.route("/programs", methods=["GET", "POST"])
def programs():
    program_form, stream_form = ProgramForm(prefix="program"), StreamForm(prefix="stream")
    programs_list = all_programs()
    stream_form.program_id.choices = [SelectChoice(p.id, f"{p.code} — {p.name}") for p in programs_list]
    try:
        if program_form.submit.data and program_form.validate():
            program = catalog.create_program(program_form.code.data, program_form.name.data,
                                             (program_form.streams.data or "").split(","))
            flash(_("Program %(code)s added.", code=program.code), "success")
            return redirect(url_for(".programs"))
        if stream_form.submit.data and stream_form.validate():
            stream = catalog.add_stream(stream_form.program_id.data, stream_form.name.data)
            flash(_("Stream %(name)s added to %(program)s.", name=stream.name, program=stream.program.code), "success")
            return redirect(url_for(".programs"))
    except ValidationError as exc:
        exc.apply_to(program_form if program_form.submit.data else stream_form)
    return form_page("admin/programs.html", programs=programs_list, program_form=program_form,
                     stream_form=stream_form)


@bp.route("/courses", methods=["GET", "POST"])
def courses():
    form = CourseForm()
    form.program_code.choices = [SelectChoice(p.code, f"{p.code} — {p.name}") for p in all_programs()]
    if form.validate_on_submit():
        try:
            course = catalog.create_course(form.code.data, form.name.data, form.program_code.data)
        except ValidationError as exc:
            exc.apply_to(form)
        else:
            flash(_("Course %(code)s added.", code=course.course_code), "success")
            return redirect(url_for(".courses"))
    repository = CatalogRepository()
    return form_page("admin/courses.html", form, courses=repository.courses(), lecturers=repository.lecturer_names())


@bp.route("/staff", methods=["GET", "POST"])
def staff():
    form = StaffForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(form.email.data, None, form.role.data,
                                        form.first_name.data, form.last_name.data, by=current_user)
        except ValidationError as exc:
            exc.apply_to(form)
        else:
            if account_emails.enqueue(password_links.INVITATION, user.email):
                flash(_("Account for %(email)s created; an invitation to choose a password is on its way to them.",
                        email=user.email), "success")
            else:
                flash(_("Account for %(email)s created, but the invitation could not be queued: send it again from "
                        "this page in a moment.", email=user.email), "warning")
            return redirect(url_for(".staff"))
    return form_page("admin/staff.html", form, accounts=accounts.staff_by_name())


@bp.route("/staff/<id:user_id>/invite", methods=["POST"])
def invite_staff(user_id: int):
    """Email a staff member a link to choose a password (again: an invitation that expired, a
    forgotten password)."""
    user = get_or_404(User, user_id)
    if user.role not in STAFF_ROLES:
        abort(404)
    purpose = password_links.RESET if user.password_hash else password_links.INVITATION
    if account_emails.enqueue(purpose, user.email):
        audit.record_now(current_user, "staff.invite", user.email, f"{purpose} link emailed")
        flash(_("A link to choose a password is on its way to %(email)s.", email=user.email), "success")
    else:
        flash(str(queueing.QUEUE_DOWN), "warning")
    return redirect(url_for(".staff"), 303)


@bp.route("/staff/<id:user_id>/active", methods=["POST"])
def set_staff_active(user_id: int):
    active = request.form.get("active") == "true"
    try:
        user = accounts.set_active(user_id, active, current_user)
    except ValidationError as exc:
        flash(exc.errors[0], "danger")
    else:
        flash(_("%(email)s is now active.", email=user.email) if active else
              _("%(email)s is now deactivated.", email=user.email), "success")
    return redirect(url_for(".staff"))


@bp.route("/staff/<id:user_id>/unlock", methods=["POST"])
def unlock_staff(user_id: int):
    """Failed sign-ins locked the account (from one address, or the ceiling from anywhere): lift it now."""
    try:
        user = accounts.unlock(user_id, current_user)
    except ValidationError as exc:
        flash(exc.one_line(), "danger")
    except RedisError:
        flash(_("The queue (Redis) is not reachable: the account cannot be unlocked now."), "danger")
    else:
        flash(_("%(email)s can sign in again: its failed sign-ins are forgotten.", email=user.email), "success")
    return redirect(url_for(".staff"))


@bp.route("/queue")
def queue():
    """What the workers are doing: pause, pace, queue lengths, workers, recent failures."""
    try:
        overview = queue_overview(current_app.extensions["rq_queues"])
        overview["delivery"] = control.current_state()
        overview["backlog"] = backlog(state=overview["delivery"])
    except RedisError:
        overview = None
    return render_template("admin/queue.html", overview=overview), 200 if overview else 503


@bp.route("/queue/resume", methods=["POST"])
def queue_resume():
    """Resume every relay, or the one named in the form's `relay`."""
    relay = request.form.get("relay") or None
    try:
        queued = control.resume_by_hand(current_user, relay)
    except RedisError:
        flash(_("The queue (Redis) is not reachable: delivery through %(relay)s cannot be resumed now.", relay=relay)
              if relay else _("The queue (Redis) is not reachable: delivery cannot be resumed now."), "danger")
    except ValidationError as exc:
        flash(_("Not resumed: %(reason)s", reason=exc.one_line()), "danger")
    else:
        if queued is None:
            flash(_("Delivery through %(relay)s was not paused (someone resumed it a moment ago).", relay=relay)
                  if relay else _("Delivery was not paused (someone resumed it a moment ago)."), "info")
        elif relay:
            flash(ngettext("Delivery through %(relay)s resumed; %(num)s waiting email queued.",
                           "Delivery through %(relay)s resumed; %(num)s waiting emails queued.", queued, relay=relay),
                  "success")
        else:
            flash(ngettext("Delivery resumed; %(num)s waiting email queued.",
                           "Delivery resumed; %(num)s waiting emails queued.", queued), "success")
    return redirect(url_for(".queue"))


@bp.route("/queue/pause", methods=["POST"])
def queue_pause():
    """Pause every relay, or the one named in the form's `relay` (the others carry its share)."""
    reason = (request.form.get("reason") or "").strip()[:200] or _("Paused by an admin")
    relay = request.form.get("relay") or None
    try:
        control.pause_by_hand(current_user, reason, relay)
    except RedisError:
        flash(_("The queue (Redis) is not reachable: delivery cannot be paused now."), "danger")
    except ValidationError as exc:
        flash(_("Not paused: %(reason)s", reason=exc.one_line()), "danger")
    else:
        flash(_("Delivery through %(relay)s paused: the other relays carry its emails until you resume it.", relay=relay)
              if relay else _("Delivery paused. Emails wait, and keep their attempts, until you resume."), "warning")
    return redirect(url_for(".queue"))


@bp.route("/queue/sweep", methods=["POST"])
def queue_sweep():
    summary = control.sweep_by_hand(current_user)
    if summary["queue_reachable"]:
        flash(_("Sweep done: %(summary)s.", summary=describe(summary, gettext)), "success")
    else:
        flash(_("Sweep done: %(summary)s. Nothing could be queued.", summary=describe(summary, gettext)) + " "
              + str(queueing.QUEUE_DOWN), "warning")
    return redirect(url_for(".queue"))


@bp.route("/cards")
def cards():
    """A printable sheet of the program's active students' cards, each with its QR code."""
    program = get_or_404(Program, id_arg("program_id")) if request.args.get("program_id") else None
    students = StudentProfileRepository().eligible_by_name(program.id) if program is not None else []
    return render_template("admin/cards.html", programs=all_programs(), program=program, students=students,
                           qr_svg=card_codes.qr_svg, masked=card_codes.masked)


@bp.route("/students/<id:profile_id>/card", methods=["GET", "POST"])
def new_card(profile_id: int):
    """A lost card: the student gets a new random card code, and the old card stops scanning."""
    profile = get_or_404(StudentProfile, profile_id)
    if request.method == "POST":
        code = card_codes.reissue(profile, by=current_user)
        flash(_("%(name)s has a new card code, ending %(code)s. Their old card no longer scans; print their new card "
                "below.", name=profile.user.full_name, code=card_codes.masked(code)), "success")
        return redirect(url_for(".cards", program_id=profile.program_id, _anchor=f"card-{profile.id}"), 303)
    return render_template("admin/new_card.html", profile=profile, masked=card_codes.masked)
