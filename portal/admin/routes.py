"""Admin pages: programs and streams, courses, staff accounts, student import and cards, the queue."""
from flask import abort, current_app, flash, redirect, render_template, request, url_for
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
            flash(f"Program {program.code} added.", "success")
            return redirect(url_for(".programs"))
        if stream_form.submit.data and stream_form.validate():
            stream = catalog.add_stream(stream_form.program_id.data, stream_form.name.data)
            flash(f"Stream {stream.name} added to {stream.program.code}.", "success")
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
            flash(f"Course {course.course_code} added.", "success")
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
                flash(f"Account for {user.email} created; an invitation to choose a password is on its way to them.",
                      "success")
            else:
                flash(f"Account for {user.email} created, but the invitation could not be queued: "
                      "send it again from this page in a moment.", "warning")
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
        flash(f"A link to choose a password is on its way to {user.email}.", "success")
    else:
        flash(queueing.QUEUE_DOWN, "warning")
    return redirect(url_for(".staff"), 303)


@bp.route("/staff/<id:user_id>/active", methods=["POST"])
def set_staff_active(user_id: int):
    active = request.form.get("active") == "true"
    try:
        user = accounts.set_active(user_id, active, current_user)
    except ValidationError as exc:
        flash(exc.errors[0], "danger")
    else:
        flash(f"{user.email} is now {'active' if active else 'deactivated'}.", "success")
    return redirect(url_for(".staff"))


@bp.route("/staff/<id:user_id>/unlock", methods=["POST"])
def unlock_staff(user_id: int):
    """Failed sign-ins locked the account (from one address, or the ceiling from anywhere): lift it now."""
    try:
        user = accounts.unlock(user_id, current_user)
    except ValidationError as exc:
        flash(exc.one_line(), "danger")
    except RedisError:
        flash("The queue (Redis) is not reachable: the account cannot be unlocked now.", "danger")
    else:
        flash(f"{user.email} can sign in again: its failed sign-ins are forgotten.", "success")
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
    what = f"Delivery through {relay}" if relay else "Delivery"
    try:
        queued = control.resume_by_hand(current_user, relay)
    except RedisError:
        flash(f"The queue (Redis) is not reachable: {what[0].lower() + what[1:]} cannot be resumed now.", "danger")
    except ValidationError as exc:
        flash(f"Not resumed: {exc.one_line()}", "danger")
    else:
        if queued is None:
            flash(f"{what} was not paused (someone resumed it a moment ago).", "info")
        else:
            flash(f"{what} resumed; {queued} waiting email{'s' if queued != 1 else ''} queued.", "success")
    return redirect(url_for(".queue"))


@bp.route("/queue/pause", methods=["POST"])
def queue_pause():
    """Pause every relay, or the one named in the form's `relay` (the others carry its share)."""
    reason = (request.form.get("reason") or "").strip()[:200] or "Paused by an admin"
    relay = request.form.get("relay") or None
    try:
        control.pause_by_hand(current_user, reason, relay)
    except RedisError:
        flash("The queue (Redis) is not reachable: delivery cannot be paused now.", "danger")
    except ValidationError as exc:
        flash(f"Not paused: {exc.one_line()}", "danger")
    else:
        flash(f"Delivery through {relay} paused: the other relays carry its emails until you resume it." if relay
              else "Delivery paused. Emails wait, and keep their attempts, until you resume.", "warning")
    return redirect(url_for(".queue"))


@bp.route("/queue/sweep", methods=["POST"])
def queue_sweep():
    summary = control.sweep_by_hand(current_user)
    if summary["queue_reachable"]:
        flash(f"Sweep done: {describe(summary)}.", "success")
    else:
        flash(f"Sweep done: {describe(summary)}. Nothing could be queued. {queueing.QUEUE_DOWN}", "warning")
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
        flash(f"{profile.user.full_name} has a new card code, ending {card_codes.masked(code)}. "
              "Their old card no longer scans; print their new card below.", "success")
        return redirect(url_for(".cards", program_id=profile.program_id, _anchor=f"card-{profile.id}"), 303)
    return render_template("admin/new_card.html", profile=profile, masked=card_codes.masked)
