"""Forms for a person's own account: changing the password, asking for a reset."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Email, Length, ValidationError

from .forms import strip_text
from .operations.accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
    new_password = PasswordField(
        "New password",
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=MAX_PASSWORD_LENGTH,
                message=f"Use at least {MIN_PASSWORD_LENGTH} characters.",
            ),
        ],
    )
    confirm = PasswordField("Repeat the new password", validators=[DataRequired()])
    submit = SubmitField("Change password")

    def validate_confirm(self, field: PasswordField) -> None:
        if field.data != self.new_password.data:
            raise ValidationError("The two new passwords do not match.")


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)],
        filters=[strip_text],
    )
    submit = SubmitField("Ask for a new password")
