"""Creating an attendance session: validate and commit; the caller queues its notifications."""
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app

from portal.database import utcnow
from portal.exceptions import ValidationError
from portal.extensions import db
from portal.models import AttendanceSession, Course, Program, Stream, User
from portal.models.sessions import DEFAULT_RADIUS_METRES
from portal.services.names import max_length, name_problem
from portal.timefmt import local_datetime, nonexistent


@dataclass
class SessionRequest:
    course_id: int
    program_id: int
    stream_id: int | None
    lecturer_id: int | None
    starts_at: datetime
    ends_at: datetime
    latitude: float | None = None
    longitude: float | None = None
    radius_m: int = DEFAULT_RADIUS_METRES
    require_id_scan: bool = False
    room: str | None = None


MAX_DAYS_AHEAD = 731  # two years: a whole academic year planned ahead, and then some


def link_expiry(starts_at: datetime) -> datetime:
    """When a session's attendance links expire: start + TOKEN_EXPIRY_MINUTES (the seed's formula),
    counted in UTC (adding to a local time counts wall-clock minutes, wrong across a clock change)."""
    return starts_at.astimezone(timezone.utc) + timedelta(minutes=current_app.config["TOKEN_EXPIRY_MINUTES"])


def validate(request: SessionRequest) -> dict[str, str]:
    """Every problem with the request, keyed by the form field it belongs to."""
    errors = _outside_calendar(request)
    if errors:
        return errors  # the checks below do arithmetic on the times, which year 9999 overflows
    if db.session.get(Course, request.course_id) is None:
        errors["course_id"] = "Unknown course"
    if db.session.get(Program, request.program_id) is None:
        errors["program_id"] = "Unknown program"
    if request.stream_id is not None:
        stream = db.session.get(Stream, request.stream_id)
        if stream is None or stream.program_id != request.program_id:
            errors["stream_id"] = "That stream does not belong to the chosen program"
    if request.lecturer_id is not None and db.session.get(User, request.lecturer_id) is None:
        errors["lecturer_id"] = "Unknown lecturer"
    for field, moment in (("start_time", request.starts_at), ("end_time", request.ends_at)):
        if nonexistent(moment):
            errors[field] = (f"{moment:%H:%M} does not exist on {moment:%Y-%m-%d} in {moment.tzinfo}: "
                             "the clocks go forward then. Choose a time after the change")
    if not errors.keys() & {"start_time", "end_time"} and (
            request.ends_at.astimezone(timezone.utc) <= request.starts_at.astimezone(timezone.utc)):
        errors["end_time"] = "The session must end after it starts"  # compared in UTC: wall clocks jump
    expires_at = link_expiry(request.starts_at)
    if expires_at <= utcnow():
        errors.setdefault("start_time",
                          f"Attendance links for this session would already have expired at {local_datetime(expires_at)}")
    if (request.latitude is None) != (request.longitude is None):
        errors["longitude" if request.longitude is None else "latitude"] = "Give both latitude and longitude, or neither"
    elif request.latitude is not None and not -90 <= request.latitude <= 90:
        errors["latitude"] = "Latitude must be between -90 and 90"
    elif request.longitude is not None and not -180 <= request.longitude <= 180:
        errors["longitude"] = "Longitude must be between -180 and 180"
    if request.room and (problem := name_problem("The room", request.room, max_length(AttendanceSession.room))):
        errors["room"] = problem
    return errors


def _outside_calendar(request: SessionRequest) -> dict[str, str]:
    """A session is planned at most MAX_DAYS_AHEAD ahead; a date further off, either way, is a
    typo (a recent past date gets the clearer "links would already have expired" below).
    Compared as plain dates, which cannot overflow whatever the year."""
    today = utcnow().date()
    last = today + timedelta(days=MAX_DAYS_AHEAD)
    if not today - timedelta(days=MAX_DAYS_AHEAD) <= request.starts_at.date() <= last:
        return {"session_date": f"Choose a date from today to {last.isoformat()} (within {MAX_DAYS_AHEAD} days)"}
    return {}


def create_session(request: SessionRequest) -> AttendanceSession:
    """Validate and save the session (committed). The caller then queues its notifications
    with `queueing.enqueue_generation`; if the queue is down, the sweep does it later."""
    errors = validate(request)
    if errors:
        raise ValidationError(errors)
    session = AttendanceSession(**vars(request))
    db.session.add(session)
    db.session.commit()
    return session
