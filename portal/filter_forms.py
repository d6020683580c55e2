"""Filter forms read from the query string (GET: no CSRF token), with a date range in local days."""
from datetime import date

from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.validators import Optional, ValidationError

# Days a filter can name: a day's bounds in any time zone, as UTC, stay within what Python's
# datetime and the databases hold (year 1 east of UTC, or the day after 9999-12-31, do not).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)


def within_the_calendar(form, field) -> None:
    if field.data and not FIRST_DAY <= field.data <= LAST_DAY:
        raise ValidationError(f"Choose a day from {FIRST_DAY:%d %B %Y} to {LAST_DAY:%d %B %Y}.")

from portal.timefmt import local_day_bounds


class QueryForm(FlaskForm):
    class Meta:
        csrf = False


class DateRangeForm(QueryForm):
    date_from = DateField("From", validators=[Optional(), within_the_calendar])
    date_to = DateField("To", validators=[Optional(), within_the_calendar])

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date must not be before the start date.")

    @property
    def bounds(self):
        """(start, end) of the chosen days in the portal's zone; None for an open end."""
        return local_day_bounds(self.date_from.data, self.date_to.data)
