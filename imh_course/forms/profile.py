"""The learner's profile: the certificate name, licence and reminder choice."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import Optional, Regexp, ValidationError

from ..rules.licenses import LICENSE_TYPES, license_label, validate_license_number
from .fields import strip_text
from .messages import (
    enter,
    max_length,
    required,
)


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
