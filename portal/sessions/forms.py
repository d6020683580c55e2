import re
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TimeField,
)
from wtforms.validators import DataRequired, NumberRange, Optional, StopValidation, ValidationError
from wtforms.widgets import Input, NumberInput, TextInput

from portal.config import MAX_RADIUS_METRES, MIN_RADIUS_METRES
from portal.filter_forms import DateRangeForm, within_the_calendar
from portal.forms import Form
from portal.models import AttendanceSession
from portal.repositories import CatalogRepository, SessionRepository
from portal.request_args import record_id
from portal.sessions.planning import MAX_NOTIFY_MINUTES_BEFORE, MAX_REPEAT_WEEKS, RADIUS_RANGE
from portal.timefmt import portal_zone


def _optional_int(value):
    """An id from a select, or None; a number no row can have is refused here, not by the database."""
    if value in (None, "", "None"):
        return None
    number = record_id(value)
    if number is None:
        raise ValueError("not an id")
    return number


class WellFormedInput(Input):
    """A date or time input that shows back what was typed only if it is in the input's
    format: a browser sends nothing else, and `value="x"` on a date input is invalid HTML."""

    validation_attrs = ["required", "max", "min", "step"]  # as wtforms' DateInput and TimeInput

    def __init__(self, input_type: str, pattern: str):
        super().__init__(input_type)
        self.pattern = re.compile(pattern)

    def __call__(self, field, **kwargs):
        if field.raw_data and not self.pattern.fullmatch(field.raw_data[0] or ""):
            kwargs["value"] = ""
        return super().__call__(field, **kwargs)


def finite(form, field) -> None:
    """NaN, sNaN and infinity parse as decimals; they are not places on Earth."""
    if field.data is not None and not field.data.is_finite():
        raise StopValidation(_("Enter a number"))


def _needed_before_the_start(form, field) -> None:
    if form.notify_at.data == "before" and not (field.raw_data and field.raw_data[0].strip()):
        raise StopValidation(_("Enter how many minutes before the start the emails go out"))


class SessionForm(Form):
    # The empty first option is the placeholder a required <select> must start with.
    # Any id passes here: planning.validate says why a course cannot be used (not taught, deactivated).
    course_id = SelectField(_l("Course"), coerce=_optional_int, validate_choice=False,
                            validators=[DataRequired(message=_l("Choose a course"))])
    program_id = SelectField(_l("Program"), coerce=_optional_int, validators=[DataRequired(message=_l("Choose a program"))])
    stream_id = SelectField(_l("Stream"), coerce=_optional_int, validate_choice=False)
    session_date = DateField(_l("Date"), format="%Y-%m-%d", widget=WellFormedInput("date", r"\d{4}-\d\d-\d\d"),
                             validators=[DataRequired(message=_l("Enter a date (YYYY-MM-DD)"))])
    start_time = TimeField(_l("Starts"), format="%H:%M", widget=WellFormedInput("time", r"\d\d:\d\d"),
                           validators=[DataRequired(message=_l("Enter a time (HH:MM)"))])
    end_time = TimeField(_l("Ends"), format="%H:%M", widget=WellFormedInput("time", r"\d\d:\d\d"),
                         validators=[DataRequired(message=_l("Enter a time (HH:MM)"))])
    # Text with a decimal keypad, not type=number: browsers' number inputs reject a pasted
    # "-1,2833" silently and round on scroll. (min, max and step belong to number inputs only.)
    latitude = DecimalField(_l("Latitude"), places=None, widget=TextInput(), render_kw={"inputmode": "decimal"},
                            validators=[Optional(), finite, NumberRange(-90, 90)])
    longitude = DecimalField(_l("Longitude"), places=None, widget=TextInput(), render_kw={"inputmode": "decimal"},
                             validators=[Optional(), finite, NumberRange(-180, 180)])
    radius_m = IntegerField(
        _l("Radius (metres)"), default=lambda: current_app.config["ATTENDANCE_RADIUS_METRES"],
        widget=NumberInput(min=MIN_RADIUS_METRES, max=MAX_RADIUS_METRES),
        validators=[Optional(), NumberRange(MIN_RADIUS_METRES, MAX_RADIUS_METRES, message=RADIUS_RANGE)],
        description=_l("Students whose phone places them within this distance of the point are recorded. A phone "
                    "whose position is less precise but whose margin of error reaches the circle is recorded too, "
                    "flagged for you to accept or reject. For a lecture hall, about 30 m; for a big site, more."))
    room = StringField(_l("Room (optional)"), filters=[lambda value: value.strip() if value else value],
                       description=_l("As students know it, e.g. \"LT 2, Science Block\": shown in the email and on "
                                   "the confirm page."))
    require_id_scan = BooleanField(_l("Students must scan their student card"),
                                   description=_l("The confirm page opens the phone's camera to read the QR code on the "
                                               "student's card. Students who cannot scan still confirm, flagged for "
                                               "you to accept or reject."))
    confirm_other_program = BooleanField(_l("Yes, this class is shared: email this program's students"))
    notify_at = RadioField(_l("Email the students"), default="now",
                           choices=[SelectChoice("now", _l("As soon as I save")),
                                    SelectChoice("before", _l("Before the session starts")),
                                    SelectChoice("never", _l("Never: no emails or links, I mark attendance by hand "
                                                          "(a class that already happened, or one without email)"))])
    notify_minutes_before = IntegerField(
        _l("Minutes before the start"), default=60, widget=NumberInput(min=0, max=MAX_NOTIFY_MINUTES_BEFORE),
        validators=[_needed_before_the_start, Optional(), NumberRange(0, MAX_NOTIFY_MINUTES_BEFORE,
                                            message=_l("Choose from 0 to %(most)s minutes",
                                                       most=MAX_NOTIFY_MINUTES_BEFORE))],
        description=_l("For example 60: the emails go out an hour before the class. A session starting sooner is "
                    "emailed at once."))
    repeat_weeks = IntegerField(
        _l("Repeat weekly for the next … weeks"), default=0, widget=NumberInput(min=0, max=MAX_REPEAT_WEEKS),
        validators=[Optional(), NumberRange(0, MAX_REPEAT_WEEKS, message=_l("Repeat for 0 to %(most)s weeks",
                                                                            most=MAX_REPEAT_WEEKS))],
        description=_l("0 for this session only; 11 for this week and the next 11, each at the same time with its own "
                    "emails."))
    submit = SubmitField(_l("Create session"))

    def fill_choices(self, current: AttendanceSession | None = None, teacher_id: int | None = None) -> None:
        """Courses (each naming its program), programs and (grouped by program) streams from the database:
        the active ones (of the courses, those `teacher_id` teaches, when given), and those the session
        being edited (`current`) already has."""
        keep = current or AttendanceSession()
        courses, programs = CatalogRepository().offered(keep.course_id, keep.program_id, teacher_id)
        self.course_id.choices = [SelectChoice("", _l("Choose a course…"))] + [
            SelectChoice(c.id, f"{c.course_code} — {c.course_name}", render_kw={"data-program": c.program_id})
            for c in courses
        ]
        self.courses = {c.id: c for c in courses}
        self.programs = {p.id: p for p in programs}
        # The chosen course's program first (the page reorders as the course changes).
        own = self.courses[self.course_id.data].program_id if self.course_id.data in self.courses else None
        self.program_id.choices = [SelectChoice("", _l("Choose a program…"))] + [
            SelectChoice(p.id, f"{p.code} — {p.name}") for p in sorted(programs, key=lambda p: p.id != own)
        ]
        # Each stream option names its program, so the page can offer only the chosen program's streams.
        streams = [(p, s) for p in programs for s in p.streams if s.is_active or s.id == keep.stream_id]
        self.stream_id.choices = [SelectChoice("", _l("Whole program"))] + [
            SelectChoice(s.id, f"{p.code}: {s.name}", render_kw={"data-program": p.id}) for p, s in streams
        ]
        self.stream_programs = {s.id: p.id for p, s in streams}

    def suggest_times(self) -> None:
        """Defaults for a lecturer in a hurry: today, starting at the next five minutes, for an hour."""
        now = datetime.now(portal_zone())
        start = (now + timedelta(minutes=5 - now.minute % 5)).replace(second=0, microsecond=0)
        self.session_date.data = self.session_date.data or start.date()
        self.start_time.data = self.start_time.data or start.time()
        end = min(start + timedelta(hours=1), start.replace(hour=23, minute=59))  # same day
        self.end_time.data = self.end_time.data or end.time()

    def validate_stream_id(self, field) -> None:
        if field.data is not None and field.data not in self.stream_programs:
            raise ValidationError(_("Unknown stream"))

    def validate_program_id(self, field) -> None:
        """A program that is not the course's own is a mistake unless the lecturer says the course is shared."""
        course, program = self.courses.get(self.course_id.data), self.programs.get(field.data)
        if course and program and course.program_id != program.id and not self.confirm_other_program.data:
            raise ValidationError(_(
                "%(course)s is a %(own)s course. To email %(other)s students, tick “%(tick)s”, or choose %(own)s.",
                course=course.course_code, own=course.program.code, other=program.code,
                tick=self.confirm_other_program.label.text))

    @property
    def minutes_before(self) -> int | None:
        """The sending time as the service takes it: None for "as soon as I save"."""
        return self.notify_minutes_before.data if self.notify_at.data == "before" else None

    @property
    def program_mismatch(self) -> bool:
        course, program_id = self.courses.get(self.course_id.data), self.program_id.data
        return bool(course and program_id and course.program_id != program_id)


class EditSessionForm(SessionForm):
    """Every field of a new session but the series; the sending time only until the emails are prepared."""

    repeat_weeks = None
    seen = HiddenField()  # the session as the form was shown (sessions.changes.fingerprint)
    notify_students = BooleanField(
        _l("Email the students about a change of course, time or place"),
        description=_l("Those already emailed get a short “Session changed” email with a new link (students who "
                    "already confirmed get nothing). Unticked, nobody is emailed and the links they have keep "
                    "working, until the time they were given."))
    submit = SubmitField(_l("Save changes"))


class CancelSessionForm(Form):
    notify_students = BooleanField(_l("Email the students who were already told about it that it is cancelled"))
    scope = RadioField(_l("Cancel"), default="session", choices=[
        SelectChoice("session", _l("This session only")),
        SelectChoice("series", _l("This session and the rest of its series"))])
    submit = SubmitField(_l("Cancel the session"))


class SessionFilterForm(DateRangeForm):
    """The sessions list's filters, from the query string: `course_id`, `from`, `to`, `state`."""

    course_id = SelectField(_l("Course"), coerce=_optional_int, validate_choice=False)
    date_from = DateField(_l("From"), name="from", validators=[Optional(), within_the_calendar])
    date_to = DateField(_l("To"), name="to", validators=[Optional(), within_the_calendar])
    state = SelectField(_l("Show"), default="", choices=[SelectChoice("", _l("All sessions")),
                                                     SelectChoice("upcoming", _l("Upcoming and under way")),
                                                     SelectChoice("past", _l("Past")),
                                                     SelectChoice("cancelled", _l("Cancelled"))])

    def fill_choices(self, teacher_id: int | None) -> None:
        """Every course for admins; a lecturer's own courses (those they teach or have sessions of)."""
        catalog = CatalogRepository()
        courses = catalog.courses()
        if teacher_id is not None:
            mine = catalog.taught_by(teacher_id) | SessionRepository().course_ids_of(teacher_id)
            courses = [course for course in courses if course.id in mine]
        self.course_id.choices = [SelectChoice("", _l("All courses"))] + [
            SelectChoice(c.id, f"{c.course_code} — {c.course_name}") for c in courses]
