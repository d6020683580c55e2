from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from portal.services.directory_service import MIN_PASSWORD_LENGTH


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
    password = PasswordField("Initial password", validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)])
    submit = SubmitField("Create account")


class ImportForm(FlaskForm):
    csv_file = FileField("Students CSV", validators=[FileRequired("Choose a CSV file"),
                                                     FileAllowed(["csv"], "Upload a .csv file")])
    submit = SubmitField("Import students")
