from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from portal.services.directory_service import MIN_PASSWORD_LENGTH, PASSWORD_LENGTH_MESSAGE


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    submit = SubmitField("Sign in")



class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=200)])
    new_password = PasswordField("New password", description=f"At least {MIN_PASSWORD_LENGTH} characters.",
                                 validators=[DataRequired(), Length(
        min=MIN_PASSWORD_LENGTH, max=200, message=PASSWORD_LENGTH_MESSAGE)])
    confirm_password = PasswordField("New password again", validators=[
        DataRequired(), EqualTo("new_password", "The two new passwords are not the same")])
    submit = SubmitField("Change password")
