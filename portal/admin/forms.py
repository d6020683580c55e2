from flask_wtf import FlaskForm
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


class ProgramForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=32)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    streams = StringField("Streams", description='Comma-separated, e.g. "A, B". Leave empty for none.',
                          validators=[Length(max=500)])
    submit = SubmitField("Add program")


class StreamForm(FlaskForm):
    program_id = SelectField("Program", coerce=int)
    name = StringField("Stream name", validators=[DataRequired(), Length(max=100)])
    submit = SubmitField("Add stream")


class CourseForm(FlaskForm):
    code = StringField("Course code", validators=[DataRequired(), Length(max=32)])
    name = StringField("Course name", validators=[DataRequired(), Length(max=200)])
    program_code = SelectField("Program")
    submit = SubmitField("Add course")


class StaffForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    first_name = StringField("First name", validators=[DataRequired(), Length(max=100)])
    last_name = StringField("Last name", validators=[DataRequired(), Length(max=100)])
    role = SelectField("Role", choices=[SelectChoice("lecturer", "Lecturer"), SelectChoice("admin", "Admin")])
    submit = SubmitField("Create account and invite")


class ImportForm(FlaskForm):
    csv_file = FileField("Students CSV", validators=[FileRequired("Choose a CSV file"),
                                                     FileAllowed(["csv"], "Upload a .csv file")])
    mode = RadioField("What to do", default="add", choices=[
        SelectChoice("add", "Add new students (every student number must be new)"),
        SelectChoice("sync", "Sync with the registry's export: update students by student number and add new ones; "
                             "you see a preview first")])
    deactivate_missing = BooleanField("When syncing, deactivate students of the file's programs who are not in it")
    submit = SubmitField("Upload")


class StudentFilterForm(QueryForm):
    """The student directory's search and filters."""

    q = StringField("Search", description="Name, student number or email", validators=[Length(max=100)])
    program_id = SelectField("Program", coerce=str, default="", validators=[Optional()])
    stream_id = SelectField("Stream", coerce=str, default="", validators=[Optional()])
    active = SelectField("Status", default="", validators=[Optional()], choices=[
        SelectChoice("", "Active and inactive"), SelectChoice("yes", "Active"), SelectChoice("no", "Inactive")])


class StudentForm(FlaskForm):
    first_name = StringField("First name", validators=[DataRequired(), Length(max=100)])
    last_name = StringField("Last name", validators=[DataRequired(), Length(max=100)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    program_id = SelectField("Program", coerce=int)
    stream_id = SelectField("Stream", coerce=str)
    active = BooleanField("Active", description="An inactive student gets no emails and their links stop working.")
    card_code = StringField("New card code (optional)", validators=[Length(max=128)],
                            description="What the QR code on a card you print yourselves holds. Leave empty to keep "
                                        "the current code.")
    language = SelectField("Language", coerce=str, validate_choice=False,
                           description="The language of the student's emails and pages.")
    submit = SubmitField("Save student")


class ProgramEditForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=32)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    active = BooleanField("Active", description="An inactive program is not offered for new sessions; its "
                                                "sessions and students stay.")
    submit = SubmitField("Save program")


class StreamEditForm(FlaskForm):
    name = StringField("Stream name", validators=[DataRequired(), Length(max=100)])
    active = BooleanField("Active", description="An inactive stream is not offered for new sessions.")
    submit = SubmitField("Save stream")


class CourseEditForm(FlaskForm):
    code = StringField("Course code", validators=[DataRequired(), Length(max=32)])
    name = StringField("Course name", validators=[DataRequired(), Length(max=200)])
    program_code = SelectField("Program")
    active = BooleanField("Active", description="An inactive course is not offered for new sessions; its sessions, "
                                                "their attendance and its register stay. Courses are never deleted.")
    submit = SubmitField("Save course")


class CoursePageForm(CourseEditForm):
    """A course's page: the course, and who teaches it."""

    lecturers = SelectMultipleField(
        "Lecturers", coerce=int, validate_choice=False,
        description="They create this course's sessions and see its register. Removing one keeps the sessions "
                    "they made.")


class PasswordForm(FlaskForm):
    """A new password, typed twice (an admin setting a staff member's)."""

    new_password = PasswordField("New password", validators=[DataRequired(), NEW_PASSWORD_LENGTH])
    confirm_password = PasswordField("New password again", validators=[
        DataRequired(), EqualTo("new_password", "The two passwords are not the same")])
    submit = SubmitField("Set password")


class AuditFilterForm(DateRangeForm):
    """The audit page's filters: an action, who, and a date range."""

    action = SelectField("Action", default="", validators=[Optional()])
    actor = SelectField("Who", default="", validators=[Optional()])
