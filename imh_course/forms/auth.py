"""Signing in and out, and setting a password from an invitation or reset link."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    PasswordField,
    SubmitField,
)
from wtforms.validators import ValidationError

from .fields import strip_text
from .messages import (
    email_address,
    enter,
    max_length,
    min_length,
    required,
    sentence,
)


class LoginForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[
            required(enter("your email address")),
            email_address(),
            max_length("the email address", 254),
        ],
        filters=[strip_text],
    )
    password = PasswordField(
        "Password", validators=[required(enter("your password")), max_length("the password", 1024)]
    )
    next = HiddenField()
    submit = SubmitField("Sign in")


class LogoutForm(FlaskForm):
    submit = SubmitField("Sign out")


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        validators=[required(enter("a new password")), min_length(12, 1024)],
    )
    confirm = PasswordField("Repeat the new password", validators=[required(enter("the new password again"))])
    submit = SubmitField("Set password")

    def validate_confirm(self, field: PasswordField) -> None:
        if field.data != self.password.data:
            raise ValidationError(sentence("The two passwords do not match."))
