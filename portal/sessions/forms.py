import re
from datetime import datetime, timedelta

from flask import current_app
from flask_wtf import FlaskForm
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
        raise StopValidation("Enter a number")


def _needed_before_the_start(form, field) -> None:
    if form.notify_at.data == "before" and not (field.raw_data and field.raw_data[0].strip()):
        raise StopValidation("Enter how many minutes before the start the emails go out")


class SessionForm(FlaskForm):
    # The empty first option is the placeholder a required <select> must start with.
    # Any id passes here: planning.validate says why a course cannot be used (not taught, deactivated).
    course_id = SelectField("Course", coerce=_optional_int, validate_choice=False,
                            validators=[DataRequired(message="Choose a course")])
    program_id = SelectField("Program", coerce=_optional_int, validators=[DataRequired(message="Choose a program")])
    stream_id = SelectField("Stream", coerce=_optional_int, validate_choice=False)
    session_date = DateField("Date", format="%Y-%m-%d", widget=WellFormedInput("date", r"\d{4}-\d\d-\d\d"),
                             validators=[DataRequired(message="Enter a date (YYYY-MM-DD)")])
    start_time = TimeField("Starts", format="%H:%M", widget=WellFormedInput("time", r"\d\d:\d\d"),
                           validators=[DataRequired(message="Enter a time (HH:MM)")])
    end_time = TimeField("Ends", format="%H:%M", widget=WellFormedInput("time", r"\d\d:\d\d"),
                         validators=[DataRequired(message="Enter a time (HH:MM)")])
    # Text with a decimal keypad, not type=number: browsers' number inputs reject a pasted
    # "-1,2833" silently and round on scroll. (min, max and step belong to number inputs only.)
    latitude = DecimalField("Latitude", places=None, widget=TextInput(), render_kw={"inputmode": "decimal"},
                            validators=[Optional(), finite, NumberRange(-90, 90)])
    longitude = DecimalField("Longitude", places=None, widget=TextInput(), render_kw={"inputmode": "decimal"},
                             validators=[Optional(), finite, NumberRange(-180, 180)])
    radius_m = IntegerField(
        "Radius (metres)", default=lambda: current_app.config["ATTENDANCE_RADIUS_METRES"],
        widget=NumberInput(min=MIN_RADIUS_METRES, max=MAX_RADIUS_METRES),
        validators=[Optional(), NumberRange(MIN_RADIUS_METRES, MAX_RADIUS_METRES, message=RADIUS_RANGE)],
        description="Students whose phone places them within this distance of the point are recorded. A phone "
                    "whose position is less precise but whose margin of error reaches the circle is recorded too, "
                    "flagged for you to accept or reject. For a lecture hall, about 30 m; for a big site, more.")
    room = StringField("Room (optional)", filters=[lambda value: value.strip() if value else value],
                       description="As students know it, e.g. \"LT 2, Science Block\": shown in the email and on "
                                   "the confirm page.")
    require_id_scan = BooleanField("Students must scan their student card",
                                   description="The confirm page opens the phone's camera to read the QR code on the "
                                               "student's card. Students who cannot scan still confirm, flagged for "
                                               "you to accept or reject.")
    confirm_other_program = BooleanField("Yes, this class is shared: email this program's students")
    notify_at = RadioField("Email the students", default="now",
                           choices=[SelectChoice("now", "As soon as I save"),
                                    SelectChoice("before", "Before the session starts"),
                                    SelectChoice("never", "Never: no emails or links, I mark attendance by hand "
                                                          "(a class that already happened, or one without email)")])
    notify_minutes_before = IntegerField(
        "Minutes before the start", default=60, widget=NumberInput(min=0, max=MAX_NOTIFY_MINUTES_BEFORE),
        validators=[_needed_before_the_start, Optional(), NumberRange(0, MAX_NOTIFY_MINUTES_BEFORE,
                                            message=f"Choose from 0 to {MAX_NOTIFY_MINUTES_BEFORE} minutes")],
        description="For example 60: the emails go out an hour before the class. A session starting sooner is "
                    "emailed at once.")
    repeat_weeks = IntegerField(
        "Repeat weekly for the next … weeks", default=0, widget=NumberInput(min=0, max=MAX_REPEAT_WEEKS),
        validators=[Optional(), NumberRange(0, MAX_REPEAT_WEEKS, message=f"Repeat for 0 to {MAX_REPEAT_WEEKS} weeks")],
        description="0 for this session only; 11 for this week and the next 11, each at the same time with its own "
                    "emails.")
    submit = SubmitField("Create session")

    def fill_choices(self, current: AttendanceSession | None = None, teacher_id: int | None = None) -> None:
        """Courses (each naming its program), programs and (grouped by program) streams from the database:
        the active ones (of the courses, those `teacher_id` teaches, when given), and those the session
        being edited (`current`) already has."""
        keep = current or AttendanceSession()
        courses, programs = CatalogRepository().offered(keep.course_id, keep.program_id, teacher_id)
        self.course_id.choices = [SelectChoice("", "Choose a course…")] + [
            SelectChoice(c.id, f"{c.course_code} — {c.course_name}", render_kw={"data-program": c.program_id})
            for c in courses
        ]
        self.courses = {c.id: c for c in courses}
        self.programs = {p.id: p for p in programs}
        # The chosen course's program first (the page reorders as the course changes).
        own = self.courses[self.course_id.data].program_id if self.course_id.data in self.courses else None
        self.program_id.choices = [SelectChoice("", "Choose a program…")] + [
            SelectChoice(p.id, f"{p.code} — {p.name}") for p in sorted(programs, key=lambda p: p.id != own)
        ]
        # Each stream option names its program, so the page can offer only the chosen program's streams.
        streams = [(p, s) for p in programs for s in p.streams if s.is_active or s.id == keep.stream_id]
        self.stream_id.choices = [SelectChoice("", "Whole program")] + [
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
            raise ValidationError("Unknown stream")

    def validate_program_id(self, field) -> None:
        """A program that is not the course's own is a mistake unless the lecturer says the course is shared."""
        course, program = self.courses.get(self.course_id.data), self.programs.get(field.data)
        if course and program and course.program_id != program.id and not self.confirm_other_program.data:
            raise ValidationError(
                f"{course.course_code} is a {course.program.code} course. To email {program.code} students, tick "
                f"“{self.confirm_other_program.label.text}”, or choose {course.program.code}.")

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
        "Email the students about a change of course, time or place",
        description="Those already emailed get a short “Session changed” email with a new link (students who "
                    "already confirmed get nothing). Unticked, nobody is emailed and the links they have keep "
                    "working, until the time they were given.")
    submit = SubmitField("Save changes")


class CancelSessionForm(FlaskForm):
    notify_students = BooleanField("Email the students who were already told about it that it is cancelled")
    scope = RadioField("Cancel", default="session", choices=[
        SelectChoice("session", "This session only"),
        SelectChoice("series", "This session and the rest of its series")])
    submit = SubmitField("Cancel the session")


class SessionFilterForm(DateRangeForm):
    """The sessions list's filters, from the query string: `course_id`, `from`, `to`, `state`."""

    course_id = SelectField("Course", coerce=_optional_int, validate_choice=False)
    date_from = DateField("From", name="from", validators=[Optional(), within_the_calendar])
    date_to = DateField("To", name="to", validators=[Optional(), within_the_calendar])
    state = SelectField("Show", default="", choices=[SelectChoice("", "All sessions"),
                                                     SelectChoice("upcoming", "Upcoming and under way"),
                                                     SelectChoice("past", "Past"),
                                                     SelectChoice("cancelled", "Cancelled")])

    def fill_choices(self, teacher_id: int | None) -> None:
        """Every course for admins; a lecturer's own courses (those they teach or have sessions of)."""
        catalog = CatalogRepository()
        courses = catalog.courses()
        if teacher_id is not None:
            mine = catalog.taught_by(teacher_id) | SessionRepository().course_ids_of(teacher_id)
            courses = [course for course in courses if course.id in mine]
        self.course_id.choices = [SelectChoice("", "All courses")] + [
            SelectChoice(c.id, f"{c.course_code} — {c.course_name}") for c in courses]
