"""Forms of the LTI admin pages: a platform registration, connecting a resource link, re-linking a person."""

from __future__ import annotations

import json

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import URL, Optional, ValidationError

from ..lti.embedding import origin
from .fields import strip_text
from .messages import RELOAD, choose, email_address, enter, max_length, required, sentence

URL_CHECK = URL(require_tld=False, message=sentence("Enter a full web address starting with https://."))


def _https_only(_form: FlaskForm, field: StringField) -> None:
    if field.data and not field.data.lower().startswith(("https://", "http://localhost", "http://127.0.0.1")):
        raise ValidationError("Use an https:// address (http is accepted for localhost only).")


class PlatformForm(FlaskForm):
    """One registration of this tool in one LMS."""

    name = StringField(
        "Name (for people)",
        validators=[required(enter("a name for the platform")), max_length("the name", 200)],
        filters=[strip_text],
    )
    issuer = StringField(
        "Issuer (iss)",
        validators=[
            required(enter("the platform's issuer")),
            max_length("the issuer", 300),
            URL_CHECK,
            _https_only,
        ],
        filters=[strip_text],
    )
    client_id = StringField(
        "Client ID",
        validators=[required(enter("the client ID")), max_length("the client ID", 300)],
        filters=[strip_text],
    )
    deployment_ids = TextAreaField(
        "Deployment IDs (one a line)",
        validators=[required(enter("at least one deployment ID")), max_length("the deployment IDs", 4000)],
        filters=[strip_text],
    )
    auth_url = StringField(
        "OIDC authentication URL",
        validators=[
            required(enter("the OIDC authentication URL")),
            max_length("the address", 500),
            URL_CHECK,
            _https_only,
        ],
        filters=[strip_text],
    )
    token_url = StringField(
        "Access token URL",
        validators=[
            required(enter("the access token URL")),
            max_length("the address", 500),
            URL_CHECK,
            _https_only,
        ],
        filters=[strip_text],
    )
    jwks_url = StringField(
        "Public keyset URL (JWKS)",
        validators=[Optional(), max_length("the address", 500), URL_CHECK, _https_only],
        filters=[strip_text],
    )
    jwks_json = TextAreaField(
        "…or the platform's public key set, pasted (JSON)",
        validators=[Optional(), max_length("the key set", 20000)],
        filters=[strip_text],
    )
    frame_origins = TextAreaField(
        "Web addresses of the LMS that show the tool in a frame (one a line, e.g. https://school.instructure.com)",
        validators=[Optional(), max_length("the web addresses", 1000)],
        filters=[strip_text],
    )
    is_enabled = BooleanField("Launches allowed", default=True)
    submit = SubmitField("Save the platform")

    def validate(self, extra_validators=None) -> bool:  # noqa: ANN001
        ok = super().validate(extra_validators)
        if not self.jwks_url.data and not self.jwks_json.data:
            self.jwks_url.errors = [
                *self.jwks_url.errors,
                "Give the platform's JWKS URL or paste its key set.",
            ]
            return False
        return ok

    def validate_jwks_json(self, field: TextAreaField) -> None:
        try:
            data = json.loads(field.data)
        except ValueError:
            raise ValidationError("The key set is not valid JSON.") from None
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list) or not data["keys"]:
            raise ValidationError('The key set must be a JSON object with a non-empty "keys" list.')

    def validate_frame_origins(self, field: TextAreaField) -> None:
        for line in (field.data or "").split():
            if origin(line) is None:
                raise ValidationError(f"{line[:80]} is not a web address (https://…).")

    def deployment_list(self) -> list[str]:
        return list(
            dict.fromkeys(
                line.strip()[:255] for line in (self.deployment_ids.data or "").splitlines() if line.strip()
            )
        )

    def origin_list(self) -> list[str]:
        return sorted({o for o in (origin(line) for line in (self.frame_origins.data or "").split()) if o})


class ResourceLinkForm(FlaskForm):
    """Which offering (and optionally which session) an LMS link opens."""

    offering_id = SelectField("Offering", coerce=int, validators=[required(choose("an offering"))])
    session_number = SelectField("Session (optional)", coerce=int, validators=[Optional()])
    submit = SubmitField("Connect")


class UserLinkForm(FlaskForm):
    """Move an LMS identity to another account (the same person in two LMSs)."""

    email = StringField(
        "Email of the account this LMS identity belongs to",
        validators=[
            required(enter("the email of the account")),
            email_address(),
            max_length("the email address", 254),
        ],
        filters=[strip_text],
    )
    submit = SubmitField("Link to that account")


class DeepLinkForm(FlaskForm):
    """An LMS instructor's pick: the offering (and optionally the session) to place in the LMS course."""

    request_token = HiddenField(validators=[required(RELOAD)])
    offering_id = SelectField("Offering", coerce=int, validators=[required(choose("an offering"))])
    session_number = SelectField("Session (optional)", coerce=int, validators=[Optional()])
    submit = SubmitField("Place this link in the LMS course")

    def fill(self, offerings: list) -> None:  # noqa: ANN001 - Offering rows
        self.offering_id.choices = [
            (o.id, f"{o.course.title} — {o.term.value.title()} {o.year}") for o in offerings
        ]
        numbers = sorted({s.number for o in offerings for s in o.course.sessions}) if offerings else []
        self.session_number.choices = [(0, "The whole offering")] + [(n, f"Session {n}") for n in numbers]
