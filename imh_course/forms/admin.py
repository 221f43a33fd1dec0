"""Forms of the admin's pages: the account search and the account form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, StringField, SubmitField
from wtforms.validators import Optional

from ..security.roles import Role
from .fields import MultiCheckboxField, strip_text
from .messages import choose, email_address, enter, max_length, required

ROLE_LABELS = {
    Role.LEARNER: "Learner",
    Role.INSTRUCTOR: "Instructor",
    Role.COORDINATOR: "Coordinator",
    Role.ADMIN: "Admin",
}
SEARCH_MAX = 200


class AccountSearchForm(FlaskForm):
    """GET search of the account list (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(
        "Name or email contains",
        validators=[Optional(), max_length("the search", SEARCH_MAX)],
        filters=[strip_text],
    )
    submit = SubmitField("Search")


class AccountForm(FlaskForm):
    """Create or edit an account: name, sign-in email and roles."""

    full_name = StringField(
        "Full name",
        validators=[required(enter("the person's full name")), max_length("the name", 200)],
        filters=[strip_text],
    )
    email = EmailField(
        "Email (the sign-in name)",
        validators=[
            required(enter("the email address they sign in with")),
            email_address(),
            max_length("the email address", 254),
        ],
        filters=[strip_text],
    )
    roles = MultiCheckboxField(
        "Roles",
        choices=[SelectChoice(role.value, ROLE_LABELS[role]) for role in Role],
        validators=[required(choose("at least one role"))],
        validate_choice=True,
    )
    submit = SubmitField("Save the account")
