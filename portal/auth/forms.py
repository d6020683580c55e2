from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SelectField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from portal import languages
from portal.forms import Form
from portal.staff.accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

# The length a new password must have (staff.accounts checks it again: the command line has no form).
NEW_PASSWORD_LENGTH = Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH,
                             message=_l("A password must be at least %(count)s characters long",
                                        count=MIN_PASSWORD_LENGTH))


class LoginForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    submit = SubmitField(_l("Sign in"))


class ChangePasswordForm(Form):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    new_password = PasswordField(_l("New password"), description=_l("At least %(count)s characters.",
                                                                    count=MIN_PASSWORD_LENGTH),
                                 validators=[DataRequired(), NEW_PASSWORD_LENGTH])
    confirm_password = PasswordField(_l("New password again"), validators=[
        DataRequired(), EqualTo("new_password", _l("The two new passwords are not the same"))])
    submit = SubmitField(_l("Change password"))


class LanguageForm(Form):
    """A staff member's language for the portal's pages and their account emails; empty: the browser's."""
    language = SelectField(_l("Language"), choices=[])
    save = SubmitField(_l("Save language"))  # not `submit`: the password form on the same page has that id

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = [("", _l("My browser's language"))] + [
            (code, languages.name(code)) for code in languages.offered()]


class ForgotPasswordForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    submit = SubmitField(_l("Email me a link"))


class ResetPasswordForm(Form):
    password = PasswordField(_l("New password"), description=_l("At least %(count)s characters.",
                                                                count=MIN_PASSWORD_LENGTH),
                             validators=[DataRequired(), NEW_PASSWORD_LENGTH])
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(), EqualTo("password", _l("The two passwords are not the same"))])
    submit = SubmitField(_l("Set my password"))
