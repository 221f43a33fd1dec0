"""Validation messages: one style (a sentence naming the field and what to do), one source."""

from __future__ import annotations

import pytest

from imh_course.forms.messages import (
    email_address,
    in_range,
    max_length,
    min_length,
    required,
    required_input,
)
from imh_course.rules.messages import (
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
from imh_course.rules.text import joined


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (enter("your email address"), "Enter your email address."),
        (choose("a mark"), "Choose a mark."),
        (tick("confirm"), "Tick the box to confirm."),
        (too_long("the reason", 500), "Keep the reason to 500 characters or fewer."),
        (too_long("your response", 20_000), "Keep your response to 20,000 characters or fewer."),
        (too_short(12), "Use at least 12 characters."),
        (out_of_range("a year", 2000, 2100), "Enter a year from 2000 to 2100."),
        (whole_number("the points", 1), "Enter the points as a whole number, e.g. 1."),
        (RELOAD, "Reload the page and try again."),
    ],
)
def test_each_factory_writes_one_sentence_naming_the_field(message, expected):
    assert message == expected
    assert isinstance(message, FormMessage)


def test_no_double_full_stop_and_no_stray_spaces():
    assert enter("the two-letter state code, e.g. NY") == "Enter the two-letter state code, e.g. NY."
    assert sentence("  Two   spaces. ") == "Two spaces."


@pytest.mark.parametrize("bad", ["", "lower case start.", "No full stop", "Please fill this in"])
def test_a_message_off_the_house_style_is_refused(bad):
    with pytest.raises(ValueError, match="sentences"):
        sentence(bad)


def test_validators_carry_the_messages():
    assert required(enter("a reason")).message == "Enter a reason."
    assert required_input(choose("a rating")).message == "Choose a rating."
    assert max_length("the name", 200).message == "Keep the name to 200 characters or fewer."
    assert (min_length(12, 1024).min, min_length(12, 1024).message) == (12, "Use at least 12 characters.")
    assert in_range("a pass mark", 1, 100).message == "Enter a pass mark from 1 to 100."
    assert email_address().message == "Enter an email address like name@example.org."


def test_a_validator_refuses_a_message_from_elsewhere():
    with pytest.raises(TypeError, match="forms.messages"):
        required("This field is required.")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("items", "last", "expected"),
    [
        ([], "and", ""),
        (["LMSW"], "or", "LMSW"),
        (["LMSW", "LCSW"], "or", "LMSW or LCSW"),
        (["name", "email", "funding"], "and", "name, email and funding"),
    ],
)
def test_joined_reads_like_a_sentence(items, last, expected):
    assert joined(items, last) == expected
