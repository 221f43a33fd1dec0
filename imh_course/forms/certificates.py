"""Forms of the evaluation, the attestation and the coordinator's certificate actions."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectChoice, SubmitField, TextAreaField
from wtforms.validators import Regexp

from ..operations.certificates import MAX_REASON_CHARS
from ..operations.evaluation import MAX_COMMENT_CHARS, RATING_QUESTIONS, RATING_SCALE
from .fields import strip_text
from .messages import RELOAD, choose, enter, max_length, required, required_input, tick

RATING_CHOICES = [SelectChoice(str(value), f"{value} — {label}") for value, label in RATING_SCALE]
_LABELS = dict(RATING_QUESTIONS)


def _rating(key: str) -> RadioField:
    return RadioField(
        _LABELS[key],
        choices=RATING_CHOICES,
        validators=[required_input(choose("a rating"))],
    )


class EvaluationForm(FlaskForm):
    objectives_met = _rating("objectives_met")
    instructors = _rating("instructors")
    relevance = _rating("relevance")
    comments = TextAreaField(
        "Comments (optional)",
        validators=[max_length("your comments", MAX_COMMENT_CHARS)],
        filters=[strip_text],
    )
    submit = SubmitField("Submit the evaluation")

    def ratings(self) -> dict[str, int]:
        return {key: int(getattr(self, key).data) for key, _label in RATING_QUESTIONS}


class AttestationForm(FlaskForm):
    confirm = BooleanField(
        "I attest that the attendance recorded above is accurate.",
        validators=[required(tick("attest that your recorded attendance is accurate"))],
    )
    #: the credited minutes shown on the page; the attestation is refused if they changed meanwhile
    ce_minutes = HiddenField(validators=[required_input(RELOAD), Regexp(r"^[0-9]{1,6}$", message=RELOAD)])
    submit = SubmitField("Attest")


class IssueForm(FlaskForm):
    submit = SubmitField("Issue certificate")


def _reason(label: str) -> TextAreaField:
    return TextAreaField(
        label,
        validators=[required(enter("a reason")), max_length("the reason", MAX_REASON_CHARS)],
        filters=[strip_text],
    )


class ReissueForm(FlaskForm):
    reason = _reason("Reason for reissuing")
    submit = SubmitField("Reissue")


class RevokeForm(FlaskForm):
    reason = _reason("Reason for revoking")
    submit = SubmitField("Revoke")
