"""The student import page: `add` imports at once (all rows or none); `sync` shows what would
change and applies it only when the admin confirms (portal.services.student_sync)."""
import secrets
from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import delete, select

from portal.admin import bp
from portal.admin.forms import ImportForm
from portal.database import utcnow
from portal.exceptions import ValidationError
from portal.extensions import db
from portal.models import PendingImport
from portal.services.student_import import import_students
from portal.services.student_sync import PlanChanged, apply_sync, plan_sync, summary

PREVIEW_LIFETIME = timedelta(days=1)
SHOWN = 500  # rows of each kind listed on the preview; the counts are always whole


@bp.route("/import", methods=["GET", "POST"])
def import_page():
    form, problems = ImportForm(), []
    if form.validate_on_submit():
        try:
            text = form.csv_file.data.read().decode("utf-8-sig")
            if form.mode.data == "sync":
                return _preview(text, form.deactivate_missing.data)
            created = import_students(text, by=current_user)
        except UnicodeDecodeError:
            form.csv_file.errors.append("The file is not UTF-8 text")
        except ValidationError as exc:
            problems = exc.errors
        else:
            flash(f"Imported {created} students.", "success")
            return redirect(url_for(".import_page"))
    status = 400 if form.errors or problems else 200
    return render_template("admin/import.html", form=form, problems=problems), status


def _preview(text: str, deactivate_missing: bool):
    plan = plan_sync(text, deactivate_missing)
    db.session.execute(delete(PendingImport).where(PendingImport.created_at < utcnow() - PREVIEW_LIFETIME))
    pending = PendingImport(token=secrets.token_urlsafe(32), created_by_id=current_user.id,
                            deactivate_missing=deactivate_missing, csv_text=text)
    db.session.add(pending)
    db.session.commit()
    return render_template("admin/import_preview.html", plan=plan, token=pending.token, shown=SHOWN)


@bp.route("/import/confirm", methods=["POST"])
def confirm_import():
    """Apply (`action=apply`, with the preview's `fingerprint`) or drop (`action=cancel`) a sync preview."""
    pending = db.session.scalar(select(PendingImport).where(PendingImport.token == request.form.get("token", "")))
    if pending is None or pending.created_at < utcnow() - PREVIEW_LIFETIME:
        abort(410, "This preview has expired or was already used; upload the file again.")
    if request.form.get("action") == "cancel":
        db.session.delete(pending)
        db.session.commit()
        flash("Sync cancelled; nothing changed.", "info")
        return redirect(url_for(".import_page"), 303)
    try:
        plan = apply_sync(pending.csv_text, pending.deactivate_missing, request.form.get("fingerprint", ""),
                          by=current_user)
    except PlanChanged as changed:
        return render_template("admin/import_preview.html", plan=changed.plan, token=pending.token, shown=SHOWN,
                               changed_since=True), 409
    except ValidationError as exc:  # the students or programs changed so that a row no longer fits
        db.session.rollback()
        return render_template("admin/import.html", form=ImportForm(), problems=exc.errors), 400
    db.session.delete(pending)
    db.session.commit()
    flash(f"Sync done: {summary(plan)}.", "success")
    return redirect(url_for(".students"), 303)
