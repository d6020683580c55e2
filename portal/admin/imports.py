"""The student import page: `add` imports at once (all rows or none); `sync` shows what would
change and applies it only when the admin confirms (portal.students.sync)."""
from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from portal.admin import bp
from portal.admin.forms import ImportForm
from portal.errors import status_of
from portal.exceptions import PlanChanged, ValidationError
from portal.pages import form_page
from portal.students import importing, sync
from portal.students.importing import import_students

SHOWN = 500  # rows of each kind listed on the preview; the counts are always whole


@bp.route("/import", methods=["GET", "POST"])
def import_page():
    form, problems = ImportForm(), []
    if form.validate_on_submit():
        try:
            text = importing.decode(form.csv_file.data.read())
            if form.mode.data == "sync":
                plan, token = sync.save_preview(text, form.deactivate_missing.data, current_user)
                return render_template("admin/import_preview.html", plan=plan, token=token, shown=SHOWN)
            created = import_students(text, by=current_user)
        except ValidationError as exc:
            problems = exc.errors
        else:
            flash(ngettext("Imported %(num)s student.", "Imported %(num)s students.", created), "success")
            return redirect(url_for(".import_page"))
    return form_page("admin/import.html", form, problems=problems)


@bp.route("/import/template.csv")
def import_template():
    """An empty import file with the header row, ready to fill in a spreadsheet."""
    return Response(importing.template(), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="students-template.csv"'})


@bp.route("/import/confirm", methods=["POST"])
def confirm_import():
    """Apply (`action=apply`, with the preview's `fingerprint`) or drop (`action=cancel`) a sync preview."""
    token = request.form.get("token", "")
    if request.form.get("action") == "cancel":
        sync.cancel_preview(token)
        flash(_("Sync cancelled; nothing changed."), "info")
        return redirect(url_for(".import_page"), 303)
    try:
        plan = sync.apply_preview(token, request.form.get("fingerprint", ""), current_user)
    except PlanChanged as changed:
        return render_template("admin/import_preview.html", plan=changed.plan, token=token, shown=SHOWN,
                               changed_since=True), status_of(changed)
    except ValidationError as exc:  # the students or programs changed so that a row no longer fits
        return form_page("admin/import.html", ImportForm(), problems=exc.errors)
    flash(_("Sync done: %(summary)s.", summary=sync.summary(plan, gettext)), "success")
    return redirect(url_for(".students"), 303)
