"""Creating an attendance session: validate and commit; the caller queues its notifications."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from portal.database import utcnow
from portal.exceptions import ValidationError
from portal.extensions import db
from portal.models import AttendanceSession, Course, Program, Stream, User
from portal.models.sessions import DEFAULT_RADIUS_METRES
from portal.timefmt import local_datetime


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


def link_expiry(starts_at: datetime) -> datetime:
    """When a session's attendance links expire: start + TOKEN_EXPIRY_MINUTES (the seed's formula)."""
    return starts_at + timedelta(minutes=current_app.config["TOKEN_EXPIRY_MINUTES"])


def validate(request: SessionRequest) -> dict[str, str]:
    """Every problem with the request, keyed by the form field it belongs to."""
    errors = {}
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
    if request.ends_at <= request.starts_at:
        errors["end_time"] = "The session must end after it starts"
    expires_at = link_expiry(request.starts_at)
    if expires_at <= utcnow():
        errors["start_time"] = (
            f"Attendance links for this session would already have expired at {local_datetime(expires_at)}"
        )
    if (request.latitude is None) != (request.longitude is None):
        errors["longitude" if request.longitude is None else "latitude"] = "Give both latitude and longitude, or neither"
    elif request.latitude is not None and not -90 <= request.latitude <= 90:
        errors["latitude"] = "Latitude must be between -90 and 90"
    elif request.longitude is not None and not -180 <= request.longitude <= 180:
        errors["longitude"] = "Longitude must be between -180 and 180"
    return errors


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
