from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from portal import languages
from portal.staff.accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

# The length a new password must have (staff.accounts checks it again: the command line has no form).
NEW_PASSWORD_LENGTH = Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH,
                             message=f"A password must be at least {MIN_PASSWORD_LENGTH} characters long")


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    submit = SubmitField("Sign in")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    new_password = PasswordField("New password", description=f"At least {MIN_PASSWORD_LENGTH} characters.",
                                 validators=[DataRequired(), NEW_PASSWORD_LENGTH])
    confirm_password = PasswordField("New password again", validators=[
        DataRequired(), EqualTo("new_password", "The two new passwords are not the same")])
    submit = SubmitField("Change password")


class LanguageForm(FlaskForm):
    """A staff member's language for the portal's pages and their account emails; empty: the browser's."""
    language = SelectField("Language", choices=[])
    submit = SubmitField("Save language")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = [("", "My browser's language")] + [
            (code, languages.name(code)) for code in languages.offered()]


class ForgotPasswordForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    submit = SubmitField("Email me a link")


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password", description=f"At least {MIN_PASSWORD_LENGTH} characters.",
                             validators=[DataRequired(), NEW_PASSWORD_LENGTH])
    confirm = PasswordField("New password again", validators=[
        DataRequired(), EqualTo("password", "The two passwords are not the same")])
    submit = SubmitField("Set my password")
