"""Forms for a person's own account: changing the password, asking for a reset."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import ValidationError

from ..operations.accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from .fields import strip_text
from .messages import email_address, enter, max_length, min_length, required, sentence


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        validators=[
            required(enter("your current password")),
            max_length("the password", MAX_PASSWORD_LENGTH),
        ],
    )
    new_password = PasswordField(
        "New password",
        validators=[
            required(enter("a new password")),
            min_length(MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH),
        ],
    )
    confirm = PasswordField("Repeat the new password", validators=[required(enter("the new password again"))])
    submit = SubmitField("Change password")

    def validate_confirm(self, field: PasswordField) -> None:
        if field.data != self.new_password.data:
            raise ValidationError(sentence("The two new passwords do not match."))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[
            required(enter("your email address")),
            email_address(),
            max_length("the email address", 254),
        ],
        filters=[strip_text],
    )
    submit = SubmitField("Ask for a new password")
