"""The password rules: long enough, not common, not the email (ASVS 2.1.1, 2.1.7, 2.1.9)."""

from __future__ import annotations

from importlib import resources

import pytest

from imh_course.operations.accounts import (
    MIN_PASSWORD_LENGTH,
    common_passwords,
    is_common_password,
    password_problem,
)
from tests.conftest import TEST_PASSWORD

LIST_FILE = resources.files("imh_course").joinpath("data/common_passwords.txt")


def _entries() -> list[str]:
    return [line for line in LIST_FILE.read_text("utf-8").splitlines() if line and not line.startswith("#")]


def test_list_is_a_few_thousand_lower_case_unique_lines():
    """The shipped list is substantial, lower-case, one password a line, without duplicates."""
    entries = _entries()
    assert 3000 <= len(entries) <= 20000
    assert all(entry == entry.strip().lower() for entry in entries)
    assert len(entries) == len(set(entries))
    assert len(common_passwords()) == len(entries)


def test_list_holds_long_entries_that_the_length_rule_alone_would_let_through():
    """Thousands of entries are 12+ characters, so the list adds protection beyond the length rule."""
    assert sum(len(entry) >= MIN_PASSWORD_LENGTH for entry in _entries()) >= 2000


@pytest.mark.parametrize(
    "password",
    ["123456", "password", "qwerty", "iloveyou", "trustno1", "letmein", "football", "dragon", "monkey"],
)
def test_classic_passwords_are_listed(password):
    """The classic top passwords are on the list."""
    assert is_common_password(password)


@pytest.mark.parametrize(
    "password",
    [
        "Password1234",
        "PASSWORD2019",
        "password2026!",
        "p@ssw0rd1234",
        "qwertyuiop123",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "123456789012",
        "aaaaaaaaaaaa",
        "iloveyou1990",
        "Superman2001",
        "correcthorsebatterystaple",
        "  Football1234  ",
    ],
)
def test_common_long_passwords_are_refused_whatever_their_case(password):
    """Long but common passwords (word + year, keyboard walks, repeats) are refused, any case."""
    assert password_problem(password) is not None
    assert "common passwords" in password_problem(password)


@pytest.mark.parametrize(
    "password", [TEST_PASSWORD, "demo-password-2026", "a-brand-new-passphrase", "Zoë walks 3 dogs daily"]
)
def test_uncommon_passphrases_are_accepted(password):
    """A passphrase that is long and not common passes; no composition rules apply."""
    assert password_problem(password, "someone@example.org") is None


def test_length_limits():
    """At least 12 characters; long passphrases (64+, up to 1024) are welcome."""
    assert "at least 12" in password_problem("short-pass1")
    assert password_problem("gardens of é") is None  # exactly 12 characters, non-ASCII welcome
    assert password_problem("a sentence of sixty-four characters is perfectly fine to use here") is None
    assert password_problem("w" * 1025) == "Use at most 1024 characters."


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("ada.lovelace@example.org", "ada.lovelace-rocks-2024"),
        ("ada.lovelace@example.org", "My name is AdaLovelace!"),
        ("Bob@Example.org", "bob likes long walks"),
    ],
)
def test_passwords_built_from_the_email_are_refused(email, password):
    """The part of the email before the @ may not appear in the password (any case, with or without dots)."""
    assert "email" in password_problem(password, email)


def test_very_short_email_names_are_not_held_against_the_password():
    """A one- or two-letter email name ('al@') would forbid half the dictionary, so it is ignored."""
    assert password_problem("a calm and quiet morning", "al@example.org") is None
