from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from portal import audit
from portal.auth.access import admin_required, is_admin, owner_filter, session_or_404, staff_required
from portal.auth.routes import safe_next
from portal.delivery import queueing
from portal.exceptions import ValidationError
from portal.models import EMAIL_STATUSES
from portal.notifications import bp
from portal.repositories import EmailNotificationRepository, SessionRepository
from portal.request_args import id_arg, page_arg, record_id
from portal.services.notification_generation_service import NotificationGenerationService

MAX_RETRY_AT_ONCE = 1000
MAX_DETAILS_SHOWN = 8
STATUSES = [status.value for status in EMAIL_STATUSES]


@bp.route("")
@staff_required
def index():
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        status = None
    filters = {
        "session_id": id_arg("session_id"),
        "status": status,
        "q": (request.args.get("q") or "").strip()[:100],
    }
    pagination = EmailNotificationRepository().search(
        lecturer_id=owner_filter(), session_id=filters["session_id"], status=filters["status"], text=filters["q"],
        page=page_arg(),
    )
    sessions = SessionRepository().choices(owner_filter())
    return render_template("notifications/list.html", pagination=pagination, filters=filters, sessions=sessions,
                           statuses=STATUSES, can_retry=is_admin())


@bp.route("/<id:notification_id>")
@staff_required
def detail(notification_id: int):
    """One email: who, where it stands, its Message-ID and every attempt with the relay's reply."""
    notification = EmailNotificationRepository().get_with_history(notification_id)
    if notification is None:
        abort(404)
    session_or_404(notification.session_id)  # another lecturer's email is not revealed
    return render_template("notifications/detail.html", n=notification, can_retry=is_admin())


@bp.route("/retry", methods=["POST"])
@admin_required
def retry():
    back = safe_next(request.form.get("next")) or url_for(".index", status="failed")
    ids = {record_id(value) for value in request.form.getlist("notification_ids")}
    if None in ids:
        raise ValidationError(_("Notification ids must be whole numbers."))
    ids = sorted(ids)
    if not ids:
        flash(_("Select at least one failed or bounced notification to retry."), "warning")
        return redirect(back)
    if len(ids) > MAX_RETRY_AT_ONCE:
        raise ValidationError(_("Retry at most %(count)s notifications at once.", count=MAX_RETRY_AT_ONCE))
    if request.form.get("confirm") != "yes":
        return render_template("notifications/confirm_retry.html", ids=ids, back=back)

    summary = NotificationGenerationService.for_admin_retry(current_app.config).retry_failed_notifications(ids)
    if summary["retried"]:  # the seed's service commits its own work; the record follows it
        audit.record_now(current_user, "notifications.retry", f"{summary['retried']} failed emails",
                         ("queued" if summary["queued"] else "not queued: the queue was down, the sweep sends them")
                         + (f"; {summary['skipped']} skipped" if summary["skipped"] else ""))
    flash(_summary_message(summary), "success" if summary["retried"] and summary["queued"] else "warning")
    return redirect(back)


def _summary_message(summary: dict) -> dict:
    """A flash payload small enough for the session cookie, however many ids were sent."""
    details = summary["errors"][:MAX_DETAILS_SHOWN]
    hidden = len(summary["errors"]) - len(details)
    if hidden:
        details.append(_("… and %(count)s more", count=hidden))
    text = ngettext("Retried %(num)s notification; skipped %(skipped)s; %(missing)s not found.",
                    "Retried %(num)s notifications; skipped %(skipped)s; %(missing)s not found.", summary["retried"],
                    skipped=summary["skipped"], missing=len(summary["errors"]) - summary["skipped"])
    if summary["queued"] is False:
        text += " " + _("They are pending again, but could not be queued.") + " " + str(queueing.QUEUE_DOWN)
    return {"text": text, "details": details}
