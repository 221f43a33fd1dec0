"""FlaskForm classes: they validate HTTP input only; domain rules stay in rules/."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..rules.licenses import LICENSE_TYPES, license_label, validate_license_number
from .messages import (
    choose,
    email_address,
    enter,
    max_length,
    min_length,
    required,
    required_input,
    sentence,
)


def strip_text(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


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


class MarkCompleteForm(FlaskForm):
    submit = SubmitField("Mark as read")


class ExerciseResponseForm(FlaskForm):
    body = TextAreaField(
        "Your response",
        validators=[max_length("your response", 20_000)],
    )
    share = BooleanField("Share this response with my instructor")
    save_draft = SubmitField("Save draft")
    submit_response = SubmitField("Submit")


class ProfileForm(FlaskForm):
    certificate_name = StringField(
        "Name as it must appear on certificates",
        validators=[
            required(enter("your name as it must appear on certificates")),
            max_length("the name", 200),
        ],
        filters=[strip_text],
    )
    discipline = StringField(
        "Discipline or profession",
        validators=[Optional(), max_length("the discipline", 120)],
        filters=[strip_text],
    )
    license_type = SelectField(
        "License type",
        choices=[SelectChoice("", "— choose —")] + [SelectChoice(t, license_label(t)) for t in LICENSE_TYPES],
    )
    license_number = StringField(
        "License number", validators=[Optional(), max_length("the license number", 40)], filters=[strip_text]
    )
    license_state = StringField(
        "License state (two letters)",
        validators=[
            Optional(),
            Regexp(r"^[A-Za-z]{2}$", message=enter("the two-letter state code, e.g. NY")),
        ],
        filters=[strip_text],
    )
    meeting_reminders = BooleanField("Email me a reminder the day before each meeting, with a calendar file")
    submit = SubmitField("Save profile")

    def validate_license_number(self, field: StringField) -> None:
        license_type = self.license_type.data or "None"
        problem = validate_license_number(license_type, field.data or "")
        if problem:
            raise ValidationError(problem)


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes (select all that apply)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class QuizFormBase(FlaskForm):
    attempt_no = HiddenField()
    quiz_version = HiddenField()
    submit = SubmitField("Submit answers")


def build_quiz_form(questions: list, *, formdata: object = _Auto) -> QuizFormBase:
    """A form for one quiz version: one radio group or checkbox group per question.

    Only option ids and texts reach the browser; whether an option is correct never does.
    """

    class QuizForm(QuizFormBase):
        pass

    for question in questions:
        choices = [SelectChoice(o["id"], o["text"]) for o in question.options]
        if question.kind == "multiple":
            message = choose("at least one answer to this question")
            field = MultiCheckboxField(choices=choices, validators=[required(message)])
        else:
            field = RadioField(
                choices=choices, validators=[required_input(choose("an answer to this question"))]
            )
        setattr(QuizForm, f"q_{question.key}", field)
    return QuizForm() if formdata is _Auto else QuizForm(formdata=formdata)


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
