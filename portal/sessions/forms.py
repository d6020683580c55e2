import re
from datetime import datetime, timedelta

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TimeField,
)
from wtforms.validators import DataRequired, NumberRange, Optional, StopValidation, ValidationError
from wtforms.widgets import Input, TextInput

from portal.extensions import db
from portal.models import Course, Program
from portal.timefmt import portal_zone


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


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


class SessionForm(FlaskForm):
    # The empty first option is the placeholder a required <select> must start with.
    course_id = SelectField("Course", coerce=_optional_int, validators=[DataRequired(message="Choose a course")])
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
    room = StringField("Room (optional)", filters=[lambda value: value.strip() if value else value],
                       description="As students know it, e.g. \"LT 2, Science Block\": shown in the email and on "
                                   "the confirm page.")
    require_id_scan = BooleanField("Students must scan their student card",
                                   description="The confirm page opens the phone's camera to read the QR code on the "
                                               "student's card. Students who cannot scan still confirm, flagged for "
                                               "you to accept or reject.")
    submit = SubmitField("Create session and notify students")

    def fill_choices(self) -> None:
        """Courses, programs and (grouped by program) streams from the database."""
        courses = db.session.scalars(select(Course).order_by(Course.course_code))
        programs = list(db.session.scalars(select(Program).order_by(Program.code)))
        self.course_id.choices = [SelectChoice("", "Choose a course…")] + [
            SelectChoice(c.id, f"{c.course_code} — {c.course_name}") for c in courses
        ]
        self.program_id.choices = [SelectChoice("", "Choose a program…")] + [
            SelectChoice(p.id, f"{p.code} — {p.name}") for p in programs
        ]
        # Each stream option names its program, so the page can offer only the chosen program's streams.
        self.stream_id.choices = [SelectChoice("", "Whole program")] + [
            SelectChoice(s.id, f"{p.code}: {s.name}", render_kw={"data-program": p.id}) for p in programs for s in p.streams
        ]
        self.stream_programs = {s.id: p.id for p in programs for s in p.streams}

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
