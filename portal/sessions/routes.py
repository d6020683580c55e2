from datetime import date, datetime, time
from types import SimpleNamespace

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from portal.auth.access import owner_filter, session_or_404, staff_required
from portal.delivery import queueing
from portal.errors import status_of
from portal.exceptions import ChangedMeanwhileError, ValidationError
from portal.models import AttendanceSession
from portal.models import NotificationStatus as Status
from portal.pages import form_page
from portal.register.statuses import StatusRule
from portal.repositories import EmailNotificationRepository, SessionRepository
from portal.request_args import page_arg
from portal.sessions import bp
from portal.sessions.changes import cancel_sessions, edit_session, ensure_changeable, fingerprint, rest_of_series
from portal.sessions.changes import send_now as send_now_service
from portal.sessions.forms import CancelSessionForm, EditSessionForm, SessionFilterForm, SessionForm
from portal.sessions.listing import listed
from portal.sessions.planning import SessionRequest, audience, create_sessions, created_message
from portal.sessions.progress import progress_of
from portal.sessions.timing import for_form, for_session
from portal.timefmt import local, portal_zone


@bp.route("")
@staff_required
def index():
    """The sessions, newest first, filtered by `course_id`, `from`, `to` (local days) and `state`;
    a 400 with the filters' problems when they cannot be read."""
    form = SessionFilterForm(request.args)
    form.fill_choices(owner_filter())
    if not form.validate():
        return form_page("sessions/list.html", form, pagination=None, entries=[])
    starts_from, starts_before = form.bounds
    pagination, entries = SessionRepository().page(owner_filter(), page_arg(), course_id=form.course_id.data,
                                                   starts_from=starts_from, starts_before=starts_before,
                                                   state=form.state.data or None)
    return render_template("sessions/list.html", form=form, pagination=pagination,
                           entries=listed(entries, StatusRule.from_config(current_app.config)),
                           filtered=any(request.args.get(name) for name in ("course_id", "from", "to", "state")))


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def new():
    form = SessionForm()
    form.fill_choices(teacher_id=owner_filter())
    if not form.is_submitted():
        form.suggest_times()
        form.require_id_scan.data = current_app.config["ATTENDANCE_REQUIRE_ID_SCAN"]
    elif form.validate():
        try:
            sessions = create_sessions(_request_from(form, repeat_weeks=form.repeat_weeks.data or 0,
                                                     register_only=form.notify_at.data == "never"))
        except ValidationError as exc:
            exc.apply_to(form)
        else:
            queued = all([queueing.enqueue_generation_if_due(session) for session in sessions])
            message, first = created_message(sessions, queued), sessions[0]
            expected = None if first.register_only or not queued else for_session(first)
            flash(f"{message} {expected.text}" if expected else message,
                  "success" if queued and not (expected and expected.late) else "warning")
            return redirect(url_for(".detail", session_id=sessions[0].id))
    return _form_page("sessions/new.html", form)


def _form_page(template: str, form: SessionForm, **context):
    """The form with who it emails and, while its emails' sending time can still be chosen (a new
    session, or one whose emails are not made yet), when the last email should leave (both
    refreshed by the page as the choices change)."""
    if "notify_at" in form:
        session = context.get("session")
        context["timing"] = for_form(form.program_id.data, form.stream_id.data, form.session_date.data,
                                     form.start_time.data, form.notify_at.data, form.notify_minutes_before.data,
                                     session_id=session.id if session else None)
    return form_page(template, form, audience=audience(form.program_id.data, form.stream_id.data), **context)


@bp.route("/audience")
@staff_required
def audience_count():
    """Who a session for `program_id` (and `stream_id`) would email, for the form's live preview; with
    `session_date`, `start_time`, `notify_at` and `notify_minutes_before`, when its last email should leave
    (`session_id`: of the session being edited)."""
    args = request.args
    program_id, stream_id = args.get("program_id", type=int), args.get("stream_id", type=int)
    found = for_form(program_id, stream_id, _parsed(args.get("session_date"), date.fromisoformat),
                     _parsed(args.get("start_time"), time.fromisoformat), args.get("notify_at"),
                     args.get("notify_minutes_before", type=int), session_id=args.get("session_id", type=int))
    return jsonify({"audience": audience(program_id, stream_id),
                    "timing": {"text": found.text, "late": found.late} if found else None})


def _parsed(text: str | None, parse):
    try:
        return parse(text) if text else None
    except ValueError:
        return None


@bp.route("/<id:session_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(session_id: int):
    session = session_or_404(session_id)
    ensure_changeable(session)
    form = _edit_form(session, shown=request.method != "POST")
    if form.validate_on_submit():
        minutes = form.minutes_before if "notify_at" in form else session.notify_minutes_before
        try:
            summary = edit_session(session, _request_from(form, notify_minutes_before=minutes,
                                                          lecturer_id=session.lecturer_id,
                                                          register_only=session.register_only),
                                   by=current_user, seen=form.seen.data or None,
                                   notify_students=bool(form.notify_students and form.notify_students.data))
        except ValidationError as exc:
            exc.apply_to(form)
        except ChangedMeanwhileError as changed:
            form = _edit_form(session, shown=True)  # the session as it is now
            form.form_errors.append(str(changed))
            return _form_page("sessions/edit.html", form, session=session)[0], status_of(changed)
        else:
            queued = (queueing.enqueue_generation_if_due(session) if session.generated_at is None
                      else queueing.enqueue_send_batches(summary.pending, suffix=summary.job_suffix,
                                                         starts_at=session.starts_at))
            flash(_edited_message(summary, queued, session.register_only), "success" if queued else "warning")
            return redirect(url_for(".detail", session_id=session.id), 303)
    return _form_page("sessions/edit.html", form, session=session)


def _edit_form(session: AttendanceSession, shown: bool) -> EditSessionForm:
    """The edit form: as submitted, or (`shown`) filled from the session as it is now."""
    form = EditSessionForm(formdata=None, obj=_form_data(session)) if shown else EditSessionForm()
    form.fill_choices(current=session, teacher_id=owner_filter())
    if shown:
        form.seen.data = fingerprint(session)
    if session.generated_at is not None:  # the emails are prepared: their sending time is past choosing
        del form.notify_at, form.notify_minutes_before
    else:  # a session with emails stays one; a register-only one is prepared (its list) when saved
        form.notify_at.choices = [choice for choice in form.notify_at.choices if choice.value != "never"]
    if session.register_only:
        del form.notify_students
    return form


def _form_data(session: AttendanceSession) -> SimpleNamespace:
    """The session as the form's fields hold it (dates and times in PORTAL_TIMEZONE)."""
    starts, ends = local(session.starts_at), local(session.ends_at)
    return SimpleNamespace(
        course_id=session.course_id, program_id=session.program_id, stream_id=session.stream_id,
        session_date=starts.date(), start_time=starts.time(), end_time=ends.time(),
        latitude=session.latitude, longitude=session.longitude, radius_m=session.radius_m, room=session.room,
        require_id_scan=session.require_id_scan,
        confirm_other_program=session.program_id != session.course.program_id,
        notify_students=True,
        notify_at="now" if session.notify_minutes_before is None else "before",
        notify_minutes_before=session.notify_minutes_before if session.notify_minutes_before is not None else 60)


def _edited_message(summary, queued: bool, register_only: bool = False) -> str:
    if not summary.changed:
        return _("Nothing changed.")
    parts = [_("Session saved.")]
    if register_only:  # no emails: only the list changes
        if summary.added:
            parts.append(ngettext("%(num)s student added to its list.", "%(num)s students added to its list.",
                                  summary.added))
        if summary.withdrawn:
            parts.append(ngettext("%(num)s student taken off its list.", "%(num)s students taken off its list.",
                                  summary.withdrawn))
        return " ".join(parts)
    if summary.reissued:
        parts.append(ngettext(
            "%(num)s student already emailed gets a “Session changed” email with a new link; their old link no longer "
            "works.", "%(num)s students already emailed get a “Session changed” email with a new link; their old "
            "links no longer work.", summary.reissued))
    if summary.kept:
        parts.append(ngettext(
            "%(num)s student already emailed was not told: the link they have keeps working until the time it was "
            "given.", "%(num)s students already emailed were not told: the links they have keep working until the "
            "time they were given.", summary.kept))
    if summary.added:
        parts.append(ngettext("%(num)s student newly in this session gets their first email.",
                              "%(num)s students newly in this session get their first email.", summary.added))
    if summary.withdrawn:
        parts.append(ngettext(
            "%(num)s student no longer in it: nothing more is sent to them, and their link no longer works.",
            "%(num)s students no longer in it: nothing more is sent to them, and their links no longer work.",
            summary.withdrawn))
    if not queued:
        parts.append(str(queueing.QUEUE_DOWN))
    return " ".join(parts)


@bp.route("/<id:session_id>/cancel", methods=["GET", "POST"])
@staff_required
def cancel(session_id: int):
    """GET: what cancelling does, and the choices; POST: cancel (this one, or the rest of its series)."""
    session = session_or_404(session_id)
    rest = rest_of_series(session)
    form = CancelSessionForm()
    if request.method == "GET" and request.args.get("scope") == "series":
        form.scope.data = "series"
    if not form.validate_on_submit():
        emailed = EmailNotificationRepository().counts_by_session([session.id])[session.id][Status.SENT]
        return form_page("sessions/cancel.html", form, session=session, rest=rest, emailed=emailed)
    targets = rest if form.scope.data == "series" else [session]
    summary = cancel_sessions(targets, current_user, form.notify_students.data)
    queued = queueing.enqueue_send_batches(summary.pending, suffix=summary.job_suffix, starts_at=session.starts_at)
    message = _("%(count)s sessions cancelled.", count=len(targets)) if len(targets) > 1 else _("Session cancelled.")
    if summary.withdrawn:
        message += " " + ngettext("%(num)s student not yet emailed will not be.",
                                  "%(num)s students not yet emailed will not be.", summary.withdrawn)
    if form.notify_students.data and summary.reissued:
        message += " " + ngettext("%(num)s student already emailed gets a cancellation email.",
                                  "%(num)s students already emailed get a cancellation email.", summary.reissued)
    elif form.notify_students.data:
        message += " " + _("Nobody had been emailed yet, so nobody needs telling.")
    flash(message + ("" if queued else " " + str(queueing.QUEUE_DOWN)), "success" if queued else "warning")
    return redirect(url_for(".detail", session_id=session.id), 303)


@bp.route("/<id:session_id>/send-now", methods=["POST"])
@staff_required
def send_now(session_id: int):
    """A scheduled session's emails, now."""
    session = session_or_404(session_id)
    send_now_service(session, by=current_user)
    queued = queueing.enqueue_generation(session.id, session.starts_at)
    flash(_("Sending the emails now.") if queued else str(queueing.QUEUE_DOWN), "success" if queued else "warning")
    return redirect(url_for(".detail", session_id=session.id), 303)


def _request_from(form: SessionForm, **fields) -> SessionRequest:
    zone = portal_zone()
    day = form.session_date.data
    fields.setdefault("lecturer_id", current_user.id)
    if "notify_minutes_before" not in fields:
        fields["notify_minutes_before"] = form.minutes_before
    return SessionRequest(
        course_id=form.course_id.data,
        program_id=form.program_id.data,
        stream_id=form.stream_id.data,
        starts_at=datetime.combine(day, form.start_time.data, tzinfo=zone),
        ends_at=datetime.combine(day, form.end_time.data, tzinfo=zone),
        latitude=float(form.latitude.data) if form.latitude.data is not None else None,
        longitude=float(form.longitude.data) if form.longitude.data is not None else None,
        radius_m=current_app.config["ATTENDANCE_RADIUS_METRES"] if form.radius_m.data is None else form.radius_m.data,
        require_id_scan=form.require_id_scan.data,
        room=form.room.data or None,
        **fields,
    )


@bp.route("/<id:session_id>")
@staff_required
def detail(session_id: int):
    session = session_or_404(session_id)
    notifications = EmailNotificationRepository()
    counts = notifications.counts_by_session([session.id])[session.id]
    pagination = notifications.search(lecturer_id=None, session_id=session.id, status=None, text=None,
                                      page=page_arg())
    series = None
    if session.series_id:
        members = SessionRepository().series(session.series_id)
        series = SimpleNamespace(sessions=members, index=members.index(session) + 1)
    waiting = counts[Status.PENDING] + counts[Status.SENDING]
    to_make = session.generated_at is None and session.generation_status in ("waiting", "queued")
    expected = None
    if not (session.cancelled or session.register_only) and (waiting or to_make):
        expected = for_session(session)
    return render_template("sessions/detail.html", session=session, progress=progress_of(session, counts),
                           pagination=pagination, series=series, listed=counts[Status.NOT_EMAILED], timing=expected)


@bp.route("/<id:session_id>/progress")
@staff_required
def progress(session_id: int):
    session = session_or_404(session_id)
    counts = EmailNotificationRepository().counts_by_session([session.id])[session.id]
    return jsonify(progress_of(session, counts))
