"""Counts and titles in messages read as a person would write them."""

from __future__ import annotations

import pytest

from imh_course.rules.text import plural, titled


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0 readings"), (1, "1 reading"), (2, "2 readings"), (11, "11 readings")],
)
def test_plural_agrees_with_the_count(count, expected):
    assert plural(count, "reading") == expected


def test_plural_takes_an_irregular_form():
    assert plural(1, "person", "people") == "1 person"
    assert plural(3, "person", "people") == "3 people"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Foundations of Infant Mental Health", "Foundations of Infant Mental Health: attempt 1"),
        ("What Is Infant Mental Health?", "What Is Infant Mental Health? Attempt 1"),
        ("Babies Matter!", "Babies Matter! Attempt 1"),
        ("Trailing space? ", "Trailing space? Attempt 1"),
    ],
)
def test_titled_has_no_colon_after_a_question_or_exclamation_mark(title, expected):
    assert titled(title, "attempt 1") == expected
