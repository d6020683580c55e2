"""Creating attendance sessions: validate and commit; the caller queues their notifications.

A session's emails go out when it is saved, or `notify_minutes_before` its start (the
upkeep tick queues them then, from the database, so a restart loses nothing). A weekly
series is the session and `repeat_weeks` copies, each a week later at the same local
time, each with its own sending time.
"""
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from portal import link_window
from portal.config import MAX_RADIUS_METRES, MIN_RADIUS_METRES
from portal.database import MAX_ID, utcnow
from portal.delivery.queueing import QUEUE_DOWN
from portal.exceptions import ValidationError
from portal.extensions import db
from portal.models import AttendanceSession, Course, GenerationStatus, NotificationStatus, Program, Role, Stream, User
from portal.models.sessions import DEFAULT_RADIUS_METRES
from portal.names import max_length, name_problem
from portal.repositories import (
    CatalogRepository,
    EmailNotificationRepository,
    StudentProfileRepository,
    UserRepository,
    get,
)
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
    notify_minutes_before: int | None = None  # None: email the students as soon as it is saved
    register_only: bool = False  # no emails and no links: marked by hand (allowed in the past)
    repeat_weeks: int = 0  # how many more sessions, one a week after another


MAX_DAYS_AHEAD = 731  # two years: a whole academic year planned ahead, and then some
MAX_REPEAT_WEEKS = 20  # a term and then some
MAX_NOTIFY_MINUTES_BEFORE = 14 * 24 * 60  # two weeks: a link sent earlier is forgotten by the day
RADIUS_RANGE = _l("Choose a radius from %(least)s to %(most)s metres", least=MIN_RADIUS_METRES, most=MAX_RADIUS_METRES)
SERIES_NEEDS_SCHEDULE = _l("A weekly series emails each session's students before it starts: choose how many "
                           "minutes before (a session starting sooner than that is emailed at once)")


def by_codes(course_code: str, program_code: str | None, stream_name: str | None,
             lecturer_email: str | None) -> dict:
    """The ids a SessionRequest needs, from the codes and names the command line takes
    (the program defaults to the course's). ValidationError names the first unknown one."""
    catalog = CatalogRepository()
    course = catalog.course_by_code(course_code)
    if course is None:
        raise ValidationError(f"unknown course {course_code!r}")
    program = course.program
    if program_code:
        program = catalog.program_by_code(program_code)
        if program is None:
            raise ValidationError(f"unknown program {program_code!r}")
    stream = None
    if stream_name:
        stream = catalog.stream_named(program.id, stream_name)
        if stream is None:
            raise ValidationError(f"program {program.code} has no stream {stream_name!r}")
    lecturer = None
    if lecturer_email:
        lecturer = UserRepository().by_email(lecturer_email)
        if lecturer is None:
            raise ValidationError(f"unknown lecturer {lecturer_email!r}")
    return {"course_id": course.id, "program_id": program.id, "stream_id": stream.id if stream else None,
            "lecturer_id": lecturer.id if lecturer else None}


def validate(request: SessionRequest, current: AttendanceSession | None = None) -> dict[str, str]:
    """Every problem with the request, keyed by the form field it belongs to. `current`: the
    session being edited, which may keep a course, program or stream deactivated since."""
    errors = _outside_calendar(request)
    if errors:
        return errors  # the checks below do arithmetic on the times, which year 9999 overflows
    course, program, stream = get(Course, request.course_id), get(Program, request.program_id), get(Stream, request.stream_id)
    if course is None:
        errors["course_id"] = _("Unknown course")
    elif not course.is_active and not (current and current.course_id == course.id):
        errors["course_id"] = _("%(course)s is deactivated; an admin can reactivate it", course=course.course_code)
    if program is None:
        errors["program_id"] = _("Unknown program")
    elif not program.is_active and not (current and current.program_id == program.id):
        errors["program_id"] = _("Program %(code)s is deactivated; an admin can reactivate it", code=program.code)
    if request.stream_id is not None:
        if stream is None or stream.program_id != request.program_id:
            errors["stream_id"] = _("That stream does not belong to the chosen program")
        elif not stream.is_active and not (current and current.stream_id == stream.id):
            errors["stream_id"] = _("Stream %(name)s is deactivated; an admin can reactivate it", name=stream.name)
    lecturer = get(User, request.lecturer_id) if request.lecturer_id is not None else None
    if request.lecturer_id is not None and lecturer is None:
        errors["lecturer_id"] = _("Unknown lecturer")
    elif (course is not None and lecturer is not None and lecturer.role == Role.LECTURER
          and not (current and current.course_id == course.id)
          and not CatalogRepository().teaches(lecturer.id, course.id)):
        errors.setdefault("course_id", _("%(name)s does not teach %(course)s: an admin assigns lecturers to a course "
                                         "on its page (Admin → Courses)", name=lecturer.full_name,
                                         course=course.course_code))
    for field, moment in (("start_time", request.starts_at), ("end_time", request.ends_at)):
        if nonexistent(moment):
            errors[field] = _("%(time)s does not exist on %(day)s in %(zone)s: the clocks go forward then. Choose a "
                              "time after the change", time=f"{moment:%H:%M}", day=f"{moment:%Y-%m-%d}",
                              zone=str(moment.tzinfo))
    if not errors.keys() & {"start_time", "end_time"} and (
            request.ends_at.astimezone(timezone.utc) <= request.starts_at.astimezone(timezone.utc)):
        errors["end_time"] = _("The session must end after it starts")  # compared in UTC: wall clocks jump
    expires_at = link_window.expires(request.starts_at, request.ends_at)
    if not request.register_only and expires_at <= utcnow():
        errors.setdefault("start_time",
                          _("Attendance links for this session would already have expired at %(when)s. To record a "
                            "class that already happened, choose “Never” under “Email the students”",
                            when=local_datetime(expires_at)))
    if (request.latitude is None) != (request.longitude is None):
        errors["longitude" if request.longitude is None else "latitude"] = _("Give both latitude and longitude, or "
                                                                             "neither")
    elif request.latitude is not None and not -90 <= request.latitude <= 90:
        errors["latitude"] = _("Latitude must be between -90 and 90")
    elif request.longitude is not None and not -180 <= request.longitude <= 180:
        errors["longitude"] = _("Longitude must be between -180 and 180")
    if not MIN_RADIUS_METRES <= request.radius_m <= MAX_RADIUS_METRES:
        errors["radius_m"] = str(RADIUS_RANGE)
    if request.room and (problem := name_problem(_("The room"), request.room, max_length(AttendanceSession.room))):
        errors["room"] = problem
    if request.notify_minutes_before is not None and not (
            0 <= request.notify_minutes_before <= MAX_NOTIFY_MINUTES_BEFORE):
        errors["notify_minutes_before"] = _("Choose from 0 to %(most)s minutes (two weeks)",
                                            most=MAX_NOTIFY_MINUTES_BEFORE)
    if not 0 <= request.repeat_weeks <= MAX_REPEAT_WEEKS:
        errors["repeat_weeks"] = _("Repeat for 0 to %(most)s weeks", most=MAX_REPEAT_WEEKS)
    elif request.repeat_weeks and request.notify_minutes_before is None and not request.register_only:
        errors["notify_at"] = str(SERIES_NEEDS_SCHEDULE)
    return errors


def audience(program_id: int | None, stream_id: int | None) -> str | None:
    """Who a session for this program (and stream) emails: "all 21 active students of BBA (all streams)";
    None for a program or stream that does not exist (or do not belong together)."""
    program = get(Program, program_id) if an_id(program_id) else None
    stream = get(Stream, stream_id) if an_id(stream_id) else None
    if program is None or (stream_id and (stream is None or stream.program_id != program.id)):
        return None
    count = StudentProfileRepository().count_eligible(program.id, stream_id)
    who = (_("%(program)s (stream %(stream)s)", program=program.code, stream=stream.name) if stream
           else _("%(program)s (all streams)", program=program.code))
    if count == 0:
        return _("nobody: %(who)s has no active students yet", who=who)
    if count <= 2:
        return (_("the one active student of %(who)s", who=who) if count == 1
                else _("both active students of %(who)s", who=who))
    return _("all %(count)s active students of %(who)s", count=count, who=who)


def an_id(value) -> bool:
    return isinstance(value, int) and 1 <= value <= MAX_ID  # a bigger one overflows the database's integer


def notify_time(starts_at: datetime, minutes_before: int | None) -> datetime | None:
    """When a session's emails go out (None: at once)."""
    if minutes_before is None:
        return None
    return starts_at.astimezone(timezone.utc) - timedelta(minutes=minutes_before)


def weekly(request: SessionRequest) -> list[SessionRequest]:
    """The request and its repeats: the same local times, one week apart each (so a clock
    change between two weeks keeps the class at 10:00, not 09:00)."""
    repeats = []
    for week in range(request.repeat_weeks + 1):
        starts = _weeks_later(request.starts_at, week)
        repeats.append(replace(request, starts_at=starts, ends_at=_weeks_later(request.ends_at, week), repeat_weeks=0))
    return repeats


def _weeks_later(moment: datetime, weeks: int) -> datetime:
    return (moment.replace(tzinfo=None) + timedelta(weeks=weeks)).replace(tzinfo=moment.tzinfo)


def _outside_calendar(request: SessionRequest) -> dict[str, str]:
    """A session is planned at most MAX_DAYS_AHEAD ahead; a date further off, either way, is a
    typo (a recent past date gets the clearer "links would already have expired" below).
    Compared as plain dates, which cannot overflow whatever the year."""
    today = utcnow().date()
    last = today + timedelta(days=MAX_DAYS_AHEAD)
    if not today - timedelta(days=MAX_DAYS_AHEAD) <= request.starts_at.date() <= last:
        return {"session_date": _("Choose a date from today to %(last)s (within %(days)s days)", last=last.isoformat(),
                                  days=MAX_DAYS_AHEAD)}
    return {}


def create_sessions(request: SessionRequest) -> list[AttendanceSession]:
    """Validate and save the session and its weekly repeats, all or none (committed). The
    caller then queues the notifications that are due now (`queueing.enqueue_generation_if_due`);
    the rest, and any the queue missed, are queued by the workers' upkeep and the sweep."""
    errors = validate(request)
    occurrences = weekly(request) if not errors else []
    for week, occurrence in enumerate(occurrences[1:], start=2):
        problems = validate(occurrence)
        if problems:
            day = local_datetime(occurrence.starts_at)
            errors["repeat_weeks"] = _("Week %(week)s (%(day)s): %(problem)s", week=week, day=day,
                                       problem=next(iter(problems.values())))
            break
    if errors:
        raise ValidationError(errors)
    sessions = []
    for occurrence in occurrences:
        fields = {name: value for name, value in vars(occurrence).items() if name != "repeat_weeks"}
        if occurrence.register_only:  # its list is made now; nothing is ever prepared or sent
            fields.update(notify_minutes_before=None, generation_status=GenerationStatus.DONE, generated_at=utcnow())
        else:
            fields["notify_at"] = notify_time(occurrence.starts_at, occurrence.notify_minutes_before)
        sessions.append(AttendanceSession(**fields))
    db.session.add_all(sessions)
    db.session.flush()
    for session in sessions:
        if len(sessions) > 1:
            session.series_id = sessions[0].id
        if session.register_only:
            list_students(session)
    db.session.commit()
    return sessions


def list_students(session: AttendanceSession, student_ids: list[int] | None = None) -> int:
    """Put the session's eligible students (or these) on a register-only session's list: a row
    each, `not_emailed`, with no link (the caller commits). How many were new."""
    if student_ids is None:
        student_ids = [student.student_profile_id for student in StudentProfileRepository().get_by_program_and_stream(
            session.program_id, session.stream_id, active_only=True)]
    return EmailNotificationRepository().bulk_create([
        {"session_id": session.id, "student_profile_id": student_id, "token": "", "token_expires_at": session.ends_at,
         "status": NotificationStatus.NOT_EMAILED} for student_id in student_ids])


def create_session(request: SessionRequest) -> AttendanceSession:
    """`create_sessions` for one session (a request with repeats gives its first)."""
    return create_sessions(request)[0]


def created_message(sessions: list[AttendanceSession], queued: bool) -> str:
    """What the lecturer is told once sessions are saved: whom they email, and when."""
    first = sessions[0]
    saved = (_("%(count)s weekly sessions created", count=len(sessions)) if len(sessions) > 1
             else _("Session created"))
    count = StudentProfileRepository().count_eligible(first.program_id, first.stream_id)
    if first.register_only:
        return ngettext("%(saved)s for %(num)s student, without emails: mark their attendance on its attendance page.",
                        "%(saved)s for %(num)s students, without emails: mark their attendance on its attendance "
                        "page.", count, saved=saved)
    if not queued:
        return f"{saved}. {QUEUE_DOWN}"
    if first.scheduled:
        when = local_datetime(first.notify_at)
        if len(sessions) > 1:
            return ngettext("%(saved)s. Emails to %(num)s student go out at %(when)s, and as much before each of the "
                            "others.", "%(saved)s. Emails to %(num)s students go out at %(when)s, and as much before "
                            "each of the others.", count, saved=saved, when=when)
        return ngettext("%(saved)s. Emails to %(num)s student go out at %(when)s.",
                        "%(saved)s. Emails to %(num)s students go out at %(when)s.", count, saved=saved, when=when)
    return ngettext("%(saved)s. Notifying %(num)s student.", "%(saved)s. Notifying %(num)s students.", count,
                    saved=saved)
