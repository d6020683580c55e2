from datetime import datetime

from flask import Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.utils import secure_filename

from portal.auth.access import owner_filter, session_or_404, staff_required
from portal.delivery import queueing
from portal.exceptions import ValidationError
from portal.repositories import EmailNotificationRepository, SessionRepository, StudentProfileRepository
from portal.request_args import page_arg
from portal.services import card_review
from portal.services.attendance_report import build_report, card_word, report_csv
from portal.services.session_service import SessionRequest, create_session, link_expiry
from portal.sessions import bp
from portal.sessions.forms import SessionForm
from portal.sessions.progress import progress_of
from portal.timefmt import local_date, local_time, portal_zone


@bp.route("")
@staff_required
def index():
    pagination = SessionRepository().page(owner_filter(), page_arg())
    counts = EmailNotificationRepository().counts_by_session([s.id for s in pagination.items])
    return render_template("sessions/list.html", pagination=pagination, counts=counts)


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def new():
    form = SessionForm()
    form.fill_choices()
    if not form.is_submitted():
        form.suggest_times()
        form.require_id_scan.data = current_app.config["ATTENDANCE_REQUIRE_ID_SCAN"]
    elif form.validate():
        try:
            session = create_session(_request_from(form))
            queued = queueing.enqueue_generation(session.id, session.starts_at)
        except ValidationError as exc:
            exc.apply_to(form)
        else:
            flash(_created_message(session, queued), "success" if queued else "warning")
            return redirect(url_for(".detail", session_id=session.id))
    return render_template("sessions/new.html", form=form), 400 if form.errors else 200


def _request_from(form: SessionForm) -> SessionRequest:
    zone = portal_zone()
    day = form.session_date.data
    return SessionRequest(
        course_id=form.course_id.data,
        program_id=form.program_id.data,
        stream_id=form.stream_id.data,
        lecturer_id=current_user.id,
        starts_at=datetime.combine(day, form.start_time.data, tzinfo=zone),
        ends_at=datetime.combine(day, form.end_time.data, tzinfo=zone),
        latitude=float(form.latitude.data) if form.latitude.data is not None else None,
        longitude=float(form.longitude.data) if form.longitude.data is not None else None,
        require_id_scan=form.require_id_scan.data,
        room=form.room.data or None,
    )


def _created_message(session, queued: bool) -> str:
    if not queued:
        return "Session saved. " + queueing.QUEUE_DOWN
    count = StudentProfileRepository().count_eligible(session.program_id, session.stream_id)
    message = f"Session created. Notifying {count} student{'s' if count != 1 else ''}."
    expires_at = link_expiry(session.starts_at)
    if expires_at < session.ends_at:
        message += f" Note: attendance links expire at {local_time(expires_at)}, before the session ends."
    return message


@bp.route("/<id:session_id>")
@staff_required
def detail(session_id: int):
    session = session_or_404(session_id)
    notifications = EmailNotificationRepository()
    counts = notifications.counts_by_session([session.id])[session.id]
    pagination = notifications.search(lecturer_id=None, session_id=session.id, status=None, text=None,
                                      page=page_arg())
    return render_template("sessions/detail.html", session=session, progress=progress_of(session, counts),
                           pagination=pagination)


@bp.route("/<id:session_id>/progress")
@staff_required
def progress(session_id: int):
    session = session_or_404(session_id)
    counts = EmailNotificationRepository().counts_by_session([session.id])[session.id]
    return jsonify(progress_of(session, counts))


@bp.route("/<id:session_id>/attendance")
@staff_required
def attendance(session_id: int):
    session = session_or_404(session_id)
    report = build_report(session.id, current_app.config["CLUSTER_THRESHOLD"])
    return render_template("sessions/attendance.html", session=session, report=report, card_word=card_word)


@bp.route("/<id:session_id>/attendance/<id:record_id>/review", methods=["POST"])
@staff_required
def review_attendance(session_id: int, record_id: int):
    """Accept or reject (field `decision`) a confirmation made without the student's card;
    anything else is a 400 page (ValidationError)."""
    session = session_or_404(session_id)
    record = card_review.review(session.id, record_id, request.form.get("decision", ""), current_user)
    if record is None:
        abort(404)
    flash(f"{record.student_profile.user.full_name}: attendance {record.review}.", "success")
    return redirect(url_for(".attendance", session_id=session.id, _anchor=f"record-{record.id}"), 303)


@bp.route("/<id:session_id>/attendance.csv")
@staff_required
def attendance_csv(session_id: int):
    session = session_or_404(session_id)
    report = build_report(session.id, current_app.config["CLUSTER_THRESHOLD"])
    filename = f"attendance-{session.course.course_code}-{local_date(session.starts_at)}.csv"
    return Response(report_csv(report), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{secure_filename(filename)}"'})
