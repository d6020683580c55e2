"""Filter forms read from the query string (GET: no CSRF token), with a date range in local days."""
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.validators import Optional, ValidationError

from portal.timefmt import local_day_bounds


class QueryForm(FlaskForm):
    class Meta:
        csrf = False


class DateRangeForm(QueryForm):
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date must not be before the start date.")

    @property
    def bounds(self):
        """(start, end) of the chosen days in the portal's zone; None for an open end."""
        return local_day_bounds(self.date_from.data, self.date_to.data)
