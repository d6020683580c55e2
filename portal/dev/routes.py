import re

from flask import abort, current_app, render_template

from portal.dev import bp

LINK = re.compile(r"https?://\S+/attendance\?token=[\w.-]+")
# The email's own HTML uses inline styles; it is shown alone, in a sandboxed frame, with no script.
EMAIL_HTML_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"


def _outbox():
    outbox = current_app.extensions.get("outbox")
    if outbox is None:
        abort(404, description="No outbox: emails go to the configured MAIL_SERVER.")
    return outbox


@bp.route("/outbox")
def outbox():
    return render_template("dev/outbox.html", emails=_outbox().all())


@bp.route("/outbox/<int:number>")
def outbox_email(number: int):
    caught = _outbox().get(number) or abort(404)
    text = caught.body("plain")
    return render_template("dev/outbox_email.html", email=caught, text=text, links=LINK.findall(text))


@bp.route("/outbox/<int:number>/html")
def outbox_email_html(number: int):
    caught = _outbox().get(number) or abort(404)
    response = current_app.response_class(caught.body("html"), mimetype="text/html")
    response.headers["Content-Security-Policy"] = EMAIL_HTML_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
