"""Filters and globals the page templates share."""
import time
from urllib.parse import urlencode

from flask import Flask, current_app, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from redis.exceptions import RedisError

from portal import timefmt
from portal.delivery import control
from portal.models import AttendanceStatus
from portal.register.course_register import NOT_ON_LIST
from portal.register.devices import device_label

STATUS_STYLES = {"pending": "secondary", "sending": "info", "sent": "success", "failed": "danger", "bounced": "warning",
                 "waiting": "secondary", "queued": "info", "done": "success"}

# What a page calls the codes it stores (statuses, roles), in the page's language: `{{ code|word }}`.
WORDS = {
    "pending": _l("pending"), "sending": _l("sending"), "sent": _l("sent"), "failed": _l("failed"),
    "bounced": _l("bounced"), "delayed": _l("delay reported"), "withdrawn": _l("withdrawn"), "not_emailed": _l("not emailed"), "waiting": _l("waiting"), "queued": _l("queued"),
    "done": _l("done"), "present": _l("present"), "late": _l("late"), "excused": _l("excused"),
    "absent": _l("absent"), "admin": _l("admin"), "lecturer": _l("lecturer"), "student": _l("student"),
    "accepted": _l("accepted"), "rejected": _l("rejected"), "scanned": _l("scanned"),
    "not_scanned": _l("not scanned"), "permanent": _l("permanent"), "transient": _l("transient"),
    "throttled": _l("throttled"), "slow down": _l("slow down"), "login refused": _l("login refused"),
    "tls failed": _l("tls failed"), "unreachable": _l("unreachable"), "error": _l("error"),
    # the student fields a sync preview names
    "first name": _l("first name"), "last name": _l("last name"), "email": _l("email"), "program": _l("program"),
    "stream": _l("stream"), "active": _l("active"), "card code": _l("card code"), "language": _l("language"),
}


def word(code) -> str:
    return str(WORDS.get(code, code)) if code is not None else ""


def url_with(**changes) -> str:
    """The current page's URL with some query arguments changed (None removes one).
    The query is encoded here, never passed to url_for: a visitor's `?session_id=` or
    `?_external=` must not become a route argument or one of url_for's own options."""
    args = request.args.to_dict()
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    path = url_for(request.endpoint, **(request.view_args or {}))
    return f"{path}?{urlencode(args)}" if args else path


def same_query(endpoint: str, **view_args) -> str:
    """Another page with the current page's query (a filtered page's download, say), encoded
    here for the same reason as in url_with."""
    path = url_for(endpoint, **view_args)
    return f"{path}?{urlencode(request.args.to_dict())}" if request.args else path


REGISTER_CELLS = {status: Markup(f'<td class="cell-{status}">{status[0].upper()}</td>')
                  for status in AttendanceStatus}
REGISTER_CELLS |= {None: Markup("<td></td>"), NOT_ON_LIST: Markup('<td class="cell-none">·</td>')}


def register_cells(cells: list) -> Markup:
    """A register row's cells in one piece: a 500 × 40 register has 20,000 of them, and one
    template expression each took a third of the page's time (measured in bench_register)."""
    return Markup("".join([REGISTER_CELLS[cell] for cell in cells]))


_redis_down_until: dict[int, float] = {}  # per Redis client: when to ask again after it failed


def delivery_pause():
    """For every staff member, on every staff page: whether delivery is paused (None if not, or unknown).
    Asked of Redis once per request, however many parts of the page show it."""
    if not current_user.is_authenticated:
        return None
    cached = request.environ  # per request (`g` can outlive one, in an app context held open)
    if "portal.delivery_pause" not in cached:
        cached["portal.delivery_pause"] = _ask_about_the_pause()
    return cached["portal.delivery_pause"]


def _ask_about_the_pause():
    redis = current_app.extensions["redis"]
    if time.monotonic() < _redis_down_until.get(id(redis), 0.0):  # a queue that is down must not slow every page
        return None
    try:
        return control.current_pause()
    except RedisError:
        _redis_down_until[id(redis)] = time.monotonic() + 30
        return None


def university_sign_in() -> list[tuple[str, str]]:
    """The sign-in page's university buttons: (endpoint, label), one per configured way."""
    from portal.auth import oidc, saml

    both = oidc.configured() and saml.configured()
    ways = []
    if oidc.configured():
        ways.append(("auth.oidc_login", "Sign in with your university account"))
    if saml.configured():
        ways.append(("auth.saml_login", "Sign in through your institution (SAML)" if both
                     else "Sign in with your university account"))
    return ways


def init_app(app: Flask) -> None:
    app.add_template_global(delivery_pause)
    app.add_template_filter(word, "word")
    app.add_template_global(lambda: str(get_locale() or app.config["PORTAL_DEFAULT_LANGUAGE"]), "page_language")
    app.add_template_filter(lambda moment: timefmt.local_datetime(moment) if moment else "", "local_datetime")
    app.add_template_filter(lambda moment: timefmt.local_timestamp(moment) if moment else "", "local_timestamp")
    app.add_template_filter(lambda moment: timefmt.local_date(moment) if moment else "", "local_date")
    app.add_template_filter(lambda agent: device_label(agent) or (str(_l("Unknown device")) if agent else ""),
                            "device_label")
    app.add_template_filter(lambda moment: timefmt.local_time(moment) if moment else "", "local_time")
    app.add_template_filter(lambda moment: timefmt.zoned_time(moment) if moment else "", "zoned_time")
    app.add_template_filter(lambda moment: timefmt.day_name(moment) if moment else "", "day_name")
    app.add_template_filter(lambda status: STATUS_STYLES.get(status, "secondary"), "status_style")
    app.add_template_global(url_with)
    app.add_template_global(same_query)
    app.add_template_filter(register_cells, "register_cells")
    app.add_template_global(lambda: app.config["PORTAL_TIMEZONE"], "portal_timezone")
    app.add_template_global(university_sign_in)
