"""Filter forms read from the query string (GET: no CSRF token), with a date range in local days."""
from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField
from wtforms.validators import Optional, ValidationError

from portal.forms import Form

# Days a filter can name: a day's bounds in any time zone, as UTC, stay within what Python's
# datetime and the databases hold (year 1 east of UTC, or the day after 9999-12-31, do not).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)


def within_the_calendar(form, field) -> None:
    if field.data and not FIRST_DAY <= field.data <= LAST_DAY:
        raise ValidationError(_("Choose a day from %(first)s to %(last)s.", first=format_date(FIRST_DAY, "dd MMMM y"),
                                last=format_date(LAST_DAY, "dd MMMM y")))

from portal.timefmt import local_day_bounds


class QueryForm(Form):
    class Meta:
        csrf = False


class DateRangeForm(QueryForm):
    date_from = DateField(_l("From"), validators=[Optional(), within_the_calendar])
    date_to = DateField(_l("To"), validators=[Optional(), within_the_calendar])

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_("The end date must not be before the start date."))

    @property
    def bounds(self):
        """(start, end) of the chosen days in the portal's zone; None for an open end."""
        return local_day_bounds(self.date_from.data, self.date_to.data)
