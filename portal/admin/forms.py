from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from portal.auth.forms import NEW_PASSWORD_LENGTH
from portal.filter_forms import DateRangeForm, QueryForm
from portal.forms import Form


class ProgramForm(Form):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    streams = StringField(_l("Streams"), description=_l('Comma-separated, e.g. "A, B". Leave empty for none.'),
                          validators=[Length(max=500)])
    submit = SubmitField(_l("Add program"))


class StreamForm(Form):
    program_id = SelectField(_l("Program"), coerce=int)
    name = StringField(_l("Stream name"), validators=[DataRequired(), Length(max=100)])
    submit = SubmitField(_l("Add stream"))


class CourseForm(Form):
    code = StringField(_l("Course code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Course name"), validators=[DataRequired(), Length(max=200)])
    program_code = SelectField(_l("Program"))
    submit = SubmitField(_l("Add course"))


class StaffForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[DataRequired(), Length(max=100)])
    role = SelectField(_l("Role"), choices=[SelectChoice("lecturer", _l("Lecturer")), SelectChoice("admin", _l("Admin"))])
    submit = SubmitField(_l("Create account and invite"))


class ImportForm(Form):
    csv_file = FileField(_l("Students CSV"), validators=[FileRequired(_l("Choose a CSV file")),
                                                     FileAllowed(["csv"], _l("Upload a .csv file"))])
    mode = RadioField(_l("What to do"), default="add", choices=[
        SelectChoice("add", _l("Add new students (every student number must be new)")),
        SelectChoice("sync", _l("Sync with the registry's export: update students by student number and add new ones; "
                             "you see a preview first"))])
    deactivate_missing = BooleanField(_l("When syncing, deactivate students of the file's programs who are not in it"))
    submit = SubmitField(_l("Upload"))


class StudentFilterForm(QueryForm):
    """The student directory's search and filters."""

    q = StringField(_l("Search"), description=_l("Name, student number or email"), validators=[Length(max=100)])
    program_id = SelectField(_l("Program"), coerce=str, default="", validators=[Optional()])
    stream_id = SelectField(_l("Stream"), coerce=str, default="", validators=[Optional()])
    active = SelectField(_l("Status"), default="", validators=[Optional()], choices=[
        SelectChoice("", _l("Active and inactive")), SelectChoice("yes", _l("Active")), SelectChoice("no", _l("Inactive"))])
    email = SelectField(_l("Email"), default="", validators=[Optional()], choices=[
        SelectChoice("", _l("Every address")), SelectChoice("bouncing", _l("Address bouncing"))])


class StudentForm(Form):
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    program_id = SelectField(_l("Program"), coerce=int)
    stream_id = SelectField(_l("Stream"), coerce=str)
    active = BooleanField(_l("Active"), description=_l("An inactive student gets no emails and their links stop working."))
    card_code = StringField(_l("New card code (optional)"), validators=[Length(max=128)],
                            description=_l("What the QR code on a card you print yourselves holds. Leave empty to keep "
                                        "the current code."))
    language = SelectField(_l("Language"), coerce=str, validate_choice=False,
                           description=_l("The language of the student's emails and pages."))
    submit = SubmitField(_l("Save student"))


class ProgramEditForm(Form):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    active = BooleanField(_l("Active"), description=_l("An inactive program is not offered for new sessions; its "
                                                "sessions and students stay."))
    submit = SubmitField(_l("Save program"))


class StreamEditForm(Form):
    name = StringField(_l("Stream name"), validators=[DataRequired(), Length(max=100)])
    active = BooleanField(_l("Active"), description=_l("An inactive stream is not offered for new sessions."))
    submit = SubmitField(_l("Save stream"))


class CourseEditForm(Form):
    code = StringField(_l("Course code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Course name"), validators=[DataRequired(), Length(max=200)])
    program_code = SelectField(_l("Program"))
    active = BooleanField(_l("Active"), description=_l("An inactive course is not offered for new sessions; its sessions, "
                                                "their attendance and its register stay. Courses are never deleted."))
    submit = SubmitField(_l("Save course"))


class CoursePageForm(CourseEditForm):
    """A course's page: the course, and who teaches it."""

    lecturers = SelectMultipleField(
        _l("Lecturers"), coerce=int, validate_choice=False,
        description=_l("They create this course's sessions and see its register. Removing one keeps the sessions "
                    "they made."))


class PasswordForm(Form):
    """A new password, typed twice (an admin setting a staff member's)."""

    new_password = PasswordField(_l("New password"), validators=[DataRequired(), NEW_PASSWORD_LENGTH])
    confirm_password = PasswordField(_l("New password again"), validators=[
        DataRequired(), EqualTo("new_password", _l("The two passwords are not the same"))])
    submit = SubmitField(_l("Set password"))


class AuditFilterForm(DateRangeForm):
    """The audit page's filters: an action, who, and a date range."""

    action = SelectField(_l("Action"), default="", validators=[Optional()])
    actor = SelectField(_l("Who"), default="", validators=[Optional()])
