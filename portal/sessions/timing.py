"""When a session's emails will be out, in the lecturer's words (`backlog.forecast` is the arithmetic).

Shown on the new-session form as the lecturer chooses (before saving), in the message once
saved, and on the session page while its emails wait. When the last email would leave after
the link opens, it says so and how many minutes before the start to send them instead.
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from redis.exceptions import RedisError

from portal.database import utcnow
from portal.delivery.backlog import Forecast, forecast
from portal.models import AttendanceSession, Program
from portal.repositories import StudentProfileRepository, get
from portal.sessions.planning import MAX_NOTIFY_MINUTES_BEFORE, an_id
from portal.timefmt import day_name, local, portal_zone, zoned_time

NOT_KNOWN = _l("The portal cannot say yet when the last email will leave: it has not sent emails lately "
               "to measure the mail server's pace.")


@dataclass(frozen=True)
class Timing:
    text: str
    late: bool  # the last email would leave after the link opens (or not at all today)


def timing(starts_at: datetime, notify_minutes_before: int | None, students: int,
           session_id: int | None = None) -> Timing | None:
    """The sentence for a session starting at `starts_at` whose `students` are emailed when saved
    (`notify_minutes_before` None) or that many minutes before the start. None when the queue
    cannot be reached (the form and the page work without it)."""
    send_at = starts_at - timedelta(minutes=notify_minutes_before) if notify_minutes_before is not None else None
    try:
        expected = forecast(starts_at, send_at, students, session_id=session_id)
    except RedisError:
        return None
    return in_words(expected, can_send_earlier=starts_at > utcnow())


def for_session(session: AttendanceSession) -> Timing | None:
    """The timing of a saved session whose emails wait (or are still to be made)."""
    students = StudentProfileRepository().count_eligible(session.program_id, session.stream_id)
    return timing(session.starts_at, session.notify_minutes_before, students, session_id=session.id)


def in_words(expected: Forecast, can_send_earlier: bool = True) -> Timing:
    if expected.done_by is None:
        if expected.pace.paused:
            return Timing(_("Delivery is paused: the emails wait until it resumes."), False)
        if expected.pace.capacity is None:
            return Timing(str(NOT_KNOWN), False)
        return Timing(_("The mail server's daily limit will be reached first: some emails wait until it allows "
                        "more. An admin can add another mail server (see Admin → Delivery queue)."), True)
    if expected.ahead:
        text = ngettext("The last email should leave by %(when)s, after %(num)s email for earlier classes.",
                        "The last email should leave by %(when)s, after %(num)s emails for earlier classes.",
                        expected.ahead, when=_when(expected.done_by))
    else:
        text = _("The last email should leave by %(when)s.", when=_when(expected.done_by))
    if not expected.late:
        return Timing(text, False)
    text += " " + _("That is after the link opens at %(when)s: the students emailed last would get their link late.",
                    when=_when(expected.opens_at))
    needed = expected.minutes_needed
    if can_send_earlier and expected.starts_at - timedelta(minutes=needed) > utcnow():
        text += " " + _("Email the students %(minutes)s minutes before the start, or earlier, so that every link is "
                        "there in time.", minutes=needed)
    else:
        text += " " + _("It cannot go sooner now; students still confirm once their link arrives.")
    return Timing(text, True)


def _when(moment: datetime) -> str:
    """"08:06 EAT", with the day when it is not today."""
    if local(moment).date() == local(utcnow()).date():
        return zoned_time(moment)
    return f"{day_name(moment)}, {zoned_time(moment)}"


def for_form(program_id, stream_id, day, start, notify_at: str | None, minutes_before,
             session_id: int | None = None) -> Timing | None:
    """The timing for the session form's choices as they stand (None until a program, a date and a
    start are chosen, and for a session without emails). `session_id`: the saved session being
    edited, whose emails (still to be made) are these, not others ahead of them."""
    if notify_at == "never" or not isinstance(day, date) or not isinstance(start, time) or not 1900 <= day.year <= 9998:
        return None
    program = get(Program, program_id) if an_id(program_id) else None
    if program is None:
        return None
    stream_id = stream_id if an_id(stream_id) else None
    students = StudentProfileRepository().count_eligible(program.id, stream_id)
    before = None
    if notify_at == "before" and isinstance(minutes_before, int) and 0 <= minutes_before <= MAX_NOTIFY_MINUTES_BEFORE:
        before = minutes_before
    return timing(datetime.combine(day, start, tzinfo=portal_zone()), before, students,
                  session_id=session_id if an_id(session_id) else None)
