import re

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from portal.dev import bp
from portal.dev.outbox import RELAYS

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
    from portal.dev.outbox import GREYLISTED, REFUSED

    outbox = _outbox()
    return render_template("dev/outbox.html", emails=outbox.all(), outbox=outbox, refused=REFUSED,
                           greylisted=GREYLISTED, relays=RELAYS)


@bp.route("/outbox/logins", methods=["POST"])
def outbox_logins():
    """Make the demo's mail server refuse (or accept again) the portal's login."""
    outbox = _outbox()
    outbox.refusing_logins = request.form.get("refuse") == "yes"
    flash(f"The demo relay {RELAYS[0]} now refuses logins: the next emails pause it, and {RELAYS[1]} carries them "
          f"(see Admin → Delivery queue)." if outbox.refusing_logins else
          f"The demo relay {RELAYS[0]} accepts logins again: resume it, or wait for the workers' next probe.",
          "warning" if outbox.refusing_logins else "success")
    return redirect(url_for(".outbox"))


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
