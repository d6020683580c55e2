"""A session's attendance: the evidence of link confirmations, the status of every student,
marking by hand, and the CSV. Owner or admin (session_or_404)."""
from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.utils import secure_filename

from portal import link_window
from portal.auth.access import session_or_404, staff_required
from portal.database import utcnow
from portal.errors import status_of
from portal.exceptions import MarkedMeanwhileError, ValidationError
from portal.models import AttendanceSession, AttendanceStatus
from portal.register import hand_marks, reviews
from portal.register.attendance_report import build_report, card_word, report_csv, review_reason
from portal.register.statuses import StatusRule
from portal.request_args import record_id
from portal.sessions import bp
from portal.template_helpers import word
from portal.timefmt import local_date

MAX_LISTED = 10_000  # more ids than any class has students


def _report(session: AttendanceSession):
    return build_report(session, StatusRule.from_config(current_app.config), current_app.config["CLUSTER_THRESHOLD"])


def _render(session: AttendanceSession, status: int = 200, **extra):
    # Live while links still record: until they expire (the end + TOKEN_GRACE_MINUTES, or later).
    live = not session.cancelled and utcnow() < link_window.expires(session.starts_at, session.ends_at)
    return render_template("sessions/attendance.html", session=session, report=_report(session),
                           card_word=lambda row: card_word(row, gettext),
                           review_reason=lambda row: review_reason(row, gettext),
                           statuses=list(AttendanceStatus), live=live,
                           late_after=current_app.config["ATTENDANCE_LATE_AFTER_MINUTES"], **extra), status


@bp.route("/<id:session_id>/attendance")
@staff_required
def attendance(session_id: int):
    return _render(session_or_404(session_id))


@bp.route("/<id:session_id>/attendance/marks", methods=["POST"])
@staff_required
def mark_attendance(session_id: int):
    """Set the status (field `status`, with an optional `note`) of one or more students
    (`student_id`, repeated). Bad input re-renders the page with the problems and what was typed."""
    session = session_or_404(session_id)
    form = request.form
    ids = form.getlist("student_id")
    student_ids = [record_id(value) for value in ids]
    try:
        if None in student_ids:
            raise ValidationError({"student_id": _("The chosen students could not be read; reload the page.")})
        changed = hand_marks.set_status(session, student_ids, form.get("status", ""), form.get("note", ""),
                                        current_user, StatusRule.from_config(current_app.config),
                                        shown=_per_student(form, "shown-"), override=form.get("override") == "y")
    except (ValidationError, MarkedMeanwhileError) as error:
        problems = error.errors if isinstance(error, ValidationError) else [str(error)]
        return _render(session, status_of(error), mark_errors=problems,
                       typed={"status": form.get("status", ""), "note": form.get("note", ""), "ids": set(ids)})
    flash(ngettext("%(num)s student marked %(status)s.", "%(num)s students marked %(status)s.", changed,
                   status=word(form["status"])) if changed
          else _("Nothing changed: those students already had that status."), "success")
    anchor = f"student-{ids[0]}" if len(ids) == 1 else "register"
    return redirect(url_for(".attendance", session_id=session.id, _anchor=anchor), 303)


@bp.route("/<id:session_id>/attendance/save", methods=["POST"])
@staff_required
def save_attendance(session_id: int):
    """The attendance page's one form: `status-<student id>` ("" for no change) with an optional
    `note-<student id>`, and `shown-<student id>` (the status the page showed). Only the rows
    given a status are marked, in one commit; bad input re-renders the page with what was chosen."""
    session = session_or_404(session_id)
    form = request.form
    statuses, notes = _per_student(form, "status-"), _per_student(form, "note-")
    changes = {student_id: (status, notes.get(student_id, "")) for student_id, status in statuses.items() if status}
    try:
        if any(note.strip() and not statuses.get(student_id) for student_id, note in notes.items()):
            raise ValidationError([_("A note is saved with a status: choose a status for each student you wrote "
                                     "a note for.")])
        if not changes:
            flash(_("Nothing to save: choose a new status for at least one student."), "info")
            return redirect(url_for(".attendance", session_id=session.id, _anchor="register"), 303)
        changed = hand_marks.set_statuses(session, changes, current_user, StatusRule.from_config(current_app.config),
                                          shown=_per_student(form, "shown-"), override=form.get("override") == "y")
    except (ValidationError, MarkedMeanwhileError) as error:
        problems = error.errors if isinstance(error, ValidationError) else [str(error)]
        chosen = {student_id: (status, notes.get(student_id, "")) for student_id, status in statuses.items()}
        return _render(session, status_of(error), mark_errors=problems, chosen=chosen)
    flash(ngettext("Saved: %(num)s student marked.", "Saved: %(num)s students marked.", changed) if changed
          else _("Nothing changed: those students already had those statuses."), "success")
    return redirect(url_for(".attendance", session_id=session.id, _anchor="register"), 303)


def _per_student(form, prefix: str) -> dict[int, str]:
    """The values of the fields `<prefix><student id>` (a status, a note, the status the page
    showed), by student id; a field whose id cannot be read is left out."""
    values = {}
    for key, value in form.items():
        if key.startswith(prefix) and (student_id := record_id(key[len(prefix):])) is not None:
            values[student_id] = value
    return values


@bp.route("/<id:session_id>/attendance/<id:record_id>/review", methods=["POST"])
@staff_required
def review_attendance(session_id: int, record_id: int):
    """Accept or reject (field `decision`) a confirmation flagged for review (made without the
    student's card, or with the position uncertain); anything else is a 400 page (ValidationError)."""
    session = session_or_404(session_id)
    record = reviews.review(session.id, record_id, request.form.get("decision", ""), current_user)
    if record is None:
        abort(404)
    flash(_("%(name)s: attendance %(decision)s.", name=record.student_profile.user.full_name,
            decision=word(record.review)), "success")
    return redirect(url_for(".attendance", session_id=session.id, _anchor=f"record-{record.id}"), 303)


@bp.route("/<id:session_id>/attendance/accept-all", methods=["POST"])
@staff_required
def accept_all(session_id: int):
    """Accept every confirmation listed for review when the page was shown (`record_id`,
    repeated): one that came in since is not accepted unseen."""
    session = session_or_404(session_id)
    ids = [record_id(value) for value in request.form.getlist("record_id")[:MAX_LISTED]]
    if None in ids:
        raise ValidationError(_("The confirmations to accept could not be read; reload the page."))
    accepted = reviews.accept_all(session.id, ids, current_user)
    flash(ngettext("%(num)s confirmation accepted.", "%(num)s confirmations accepted.", accepted) if accepted
          else _("Nothing to accept: those confirmations were already decided."), "success")
    return redirect(url_for(".attendance", session_id=session.id, _anchor="to-review"), 303)


@bp.route("/<id:session_id>/attendance.csv")
@staff_required
def attendance_csv(session_id: int):
    session = session_or_404(session_id)
    filename = f"attendance-{session.course.course_code}-{local_date(session.starts_at)}.csv"
    return Response(report_csv(_report(session)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{secure_filename(filename)}"'})
