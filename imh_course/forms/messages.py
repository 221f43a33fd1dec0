"""WTForms validators carrying the messages of :mod:`imh_course.rules.messages`, for every form.

Forms use these (``required(enter("your email address"))``, ``max_length("the reason", 500)``)
instead of bare ``DataRequired()`` / ``Length(max=…)``, whose defaults name no field.
"""

from __future__ import annotations

from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange

from ..rules.messages import (
    RELOAD,
    FormMessage,
    choose,
    enter,
    out_of_range,
    sentence,
    tick,
    too_long,
    too_short,
    whole_number,
)

__all__ = [
    "RELOAD",
    "FormMessage",
    "choose",
    "email_address",
    "enter",
    "in_range",
    "max_length",
    "min_length",
    "required",
    "required_input",
    "sentence",
    "tick",
    "whole_number",
]


# --- validators carrying these messages ------------------------------------------------------------


def required(message: FormMessage) -> DataRequired:
    """A required text, choice or checkbox (blank or whitespace-only is missing)."""
    return DataRequired(message=_checked(message))


def required_input(message: FormMessage) -> InputRequired:
    """A required number, date, time or radio choice (``0`` is an answer, not a blank)."""
    return InputRequired(message=_checked(message))


def max_length(what: str, max_chars: int) -> Length:
    return Length(max=max_chars, message=too_long(what, max_chars))


def min_length(min_chars: int, max_chars: int) -> Length:
    """A minimum the reader must meet (passwords); the maximum is a guard nobody reaches by typing."""
    return Length(min=min_chars, max=max_chars, message=too_short(min_chars))


def in_range(what: str, low: int, high: int) -> NumberRange:
    return NumberRange(min=low, max=high, message=out_of_range(what, low, high))


def email_address() -> Email:
    return Email(
        check_deliverability=False, message=sentence("Enter an email address like name@example.org.")
    )


def _checked(message: str) -> FormMessage:
    if not isinstance(message, FormMessage):
        raise TypeError("form messages come from imh_course.forms.messages")
    return message
