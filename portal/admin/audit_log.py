"""The audit page: what admins did (and lecturers, to their sessions), newest first, filtered."""
from flask import request
from flask_babel import gettext as _
from wtforms import SelectChoice

from portal import audit
from portal.admin import bp
from portal.admin.forms import AuditFilterForm
from portal.pages import form_page
from portal.request_args import page_arg, record_id

COMMAND_LINE = "cli"


@bp.route("/audit")
def audit_log():
    form = AuditFilterForm(request.args)
    form.action.choices = [SelectChoice("", _("Every action"))] + [SelectChoice(k, v) for k, v in audit.ACTIONS.items()]
    actors = audit.actors()
    form.actor.choices = [SelectChoice("", _("Anyone")), SelectChoice(COMMAND_LINE, _("The command line"))] + [
        SelectChoice(str(u.id), f"{u.full_name} ({u.email})") for u in actors]
    pagination = audit.page(form.action.data or None, record_id(form.actor.data), form.actor.data == COMMAND_LINE,
                            *form.bounds, page_arg()) if form.validate() else None
    return form_page("admin/audit.html", form, pagination=pagination, actions=audit.ACTIONS)
