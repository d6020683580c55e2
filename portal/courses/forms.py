from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import Optional, ValidationError

from portal.models import Course


class RegisterFilterForm(FlaskForm):
    """The register's filters, read from the query string (GET, so no CSRF token)."""

    class Meta:
        csrf = False

    stream_id = SelectField("Stream", coerce=str, validators=[Optional()])
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])

    def fill_choices(self, course: Course) -> None:
        self.stream_id.choices = [("", "All streams")] + [(str(s.id), s.name) for s in course.program.streams]

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date must not be before the start date.")

    @property
    def stream(self) -> int | None:
        return int(self.stream_id.data) if self.stream_id.data else None
