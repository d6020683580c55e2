from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import Optional

from portal.filter_forms import DateRangeForm
from portal.models import Course


class RegisterFilterForm(DateRangeForm):
    """The register's filters: a stream and a date range."""

    stream_id = SelectField(_l("Stream"), coerce=str, validators=[Optional()])

    def fill_choices(self, course: Course) -> None:
        self.stream_id.choices = [("", _("All streams"))] + [(str(s.id), s.name) for s in course.program.streams]

    @property
    def stream(self) -> int | None:
        return int(self.stream_id.data) if self.stream_id.data else None
