"""The audit page: what admins did (and lecturers, to their sessions), newest first, filtered."""
from flask import render_template, request
from sqlalchemy import select
from wtforms import SelectChoice

from portal.admin import bp
from portal.admin.forms import AuditFilterForm
from portal.extensions import db
from portal.models import AuditEvent, User
from portal.request_args import page_arg, record_id
from portal.services import audit

COMMAND_LINE = "cli"


@bp.route("/audit")
def audit_log():
    form = AuditFilterForm(request.args)
    form.action.choices = [SelectChoice("", "Every action")] + [SelectChoice(k, v) for k, v in audit.ACTIONS.items()]
    actors = db.session.scalars(select(User).where(User.id.in_(select(AuditEvent.actor_id).distinct()))
                                .order_by(User.last_name, User.first_name))
    form.actor.choices = [SelectChoice("", "Anyone"), SelectChoice(COMMAND_LINE, "The command line")] + [
        SelectChoice(str(u.id), f"{u.full_name} ({u.email})") for u in actors]
    if not form.validate():
        return render_template("admin/audit.html", form=form, pagination=None, actions=audit.ACTIONS), 400
    pagination = audit.page(form.action.data or None, record_id(form.actor.data), form.actor.data == COMMAND_LINE,
                            *form.bounds, page_arg())
    return render_template("admin/audit.html", form=form, pagination=pagination, actions=audit.ACTIONS)
