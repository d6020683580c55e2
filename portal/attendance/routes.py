"""The student's side: open the emailed link, then confirm. No sign-in: the link is the proof.
Every page here, refusals included, is in the link's student's language (or the one they chose
with the page's switch)."""
import hashlib

from flask import current_app, render_template, request

from portal import languages
from portal.attendance import bp
from portal.attendance.confirmation import LOCATION_UNREADABLE, AttendanceService, Fix
from portal.errors import status_of
from portal.exceptions import DetailsMissingError, NotYourCardError, TooFarError, TooRoughError, TryAgainError
from portal.extensions import limiter
from portal.metrics import counters
from portal.services.jwt_service import JWTTokenService


def _service() -> AttendanceService:
    return AttendanceService(JWTTokenService.from_config(current_app.config))


def _token() -> str:
    return (request.form.get("token") if request.method == "POST" else request.args.get("token")) or ""


def _per_link() -> str:
    """Rate-limit key of one link, without keeping the token itself in Redis."""
    return "link:" + hashlib.sha256(_token().encode()).hexdigest()[:32]


# How /metrics names each refusal a student can put right (portal_confirmations_total{outcome}).
REFUSAL_NAMES = {TooFarError: "too_far", TooRoughError: "too_rough", NotYourCardError: "card_refused",
                 DetailsMissingError: "details_missing"}

per_client = limiter.limit(lambda: current_app.config["ATTENDANCE_RATE_LIMIT"])
per_link = limiter.limit(lambda: current_app.config["ATTENDANCE_TOKEN_RATE_LIMIT"], key_func=_per_link)


@bp.before_request
def in_the_students_language() -> None:
    """After the rate limits (the limiter checks first), before any message is worded."""
    languages.use(_service().language_of(_token()))


@bp.route("/attendance", methods=["GET"])
@per_client
@per_link
def confirm_page():
    """Validate and show the confirm button; records nothing (link scanners open this)."""
    token = _token()
    ticket = _service().check(token)
    return render_template("attendance/confirm.html", ticket=ticket, token=token)


@bp.route("/attendance", methods=["POST"])
@per_client
@per_link
def confirm():
    """Record, or show the confirm page again with what to put right (the link stays unused)."""
    service, token = _service(), _token()
    ticket = service.check(token)
    fix = Fix(_number(request.form.get("latitude")), _number(request.form.get("longitude")),
              _number(request.form.get("accuracy")))
    try:
        record = service.record_for(ticket, fix, request.remote_addr, request.user_agent.string,
                                    id_scan=request.form.get("id_scan"),
                                    without_card=request.form.get("without_card") == "1")
    except TryAgainError as refusal:
        counters.add(counters.REFUSED, REFUSAL_NAMES.get(type(refusal), "other"))
        return render_template("attendance/confirm.html", ticket=ticket, token=token, refusal=refusal), \
            status_of(refusal)
    return render_template("attendance/recorded.html", record=record, token=token)


def _number(value: str | None) -> float | None:
    """A number from the page's location lookup (its range, NaN and infinity are the service's to refuse)."""
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        raise DetailsMissingError(LOCATION_UNREADABLE) from None

