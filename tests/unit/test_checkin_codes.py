"""Rotating check-in codes: TOTP-style derivation, rotation and the acceptance window."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imh_course.rules import checkin_codes
from imh_course.rules.checkin_codes import accepts, code_for, normalise, period_number, seconds_left

SECRET = "a3f1c0de" * 8
T0 = datetime(2026, 3, 3, 17, 0, 0, tzinfo=UTC)  # a period boundary (epoch seconds divisible by 120)

# RFC 6238 appendix B, HMAC-SHA256 column (30-second steps, 8 digits, 32-byte ASCII key).
RFC_SECRET = "12345678901234567890123456789012"


@pytest.mark.parametrize(
    ("unix_time", "expected"),
    [
        (59, "46119246"),
        (1111111109, "68084774"),
        (1111111111, "67062674"),
        (1234567890, "91819424"),
        (2000000000, "90698825"),
        (20000000000, "77737706"),
    ],
)
def test_matches_the_rfc_6238_sha256_vectors(unix_time, expected):
    """The derivation is standard TOTP (HMAC-SHA256 dynamic truncation), checked against the RFC."""
    at = datetime.fromtimestamp(unix_time, UTC)
    assert code_for(RFC_SECRET, at, period_seconds=30, digits=8) == expected


def test_the_code_is_stable_within_a_period_and_changes_with_the_next():
    """Everyone in the room sees the same code for two minutes, then a fresh one."""
    assert T0.timestamp() % 120 == 0
    first = code_for(SECRET, T0)
    assert code_for(SECRET, T0 + timedelta(seconds=119)) == first
    assert code_for(SECRET, T0 + timedelta(seconds=120)) != first


def test_a_new_secret_gives_a_different_code():
    """Reopening check-in (a new secret) makes the codes shown before worthless."""
    assert code_for(SECRET, T0) != code_for("another-secret", T0)
    assert not accepts("another-secret", code_for(SECRET, T0), T0)


@given(st.integers(min_value=0, max_value=4_000_000_000))
def test_codes_are_always_six_ascii_digits(seconds):
    """A code is always six digits (leading zeros kept), so it can be typed on any keypad."""
    code = code_for(SECRET, datetime.fromtimestamp(seconds, UTC))
    assert len(code) == 6 and code.isascii() and code.isdigit()


def test_accepts_the_current_and_the_previous_code_only():
    """A code read just before it rotates still works for one more period, then expires."""
    now = T0 + timedelta(seconds=30)
    assert accepts(SECRET, code_for(SECRET, now), now)
    assert accepts(SECRET, code_for(SECRET, now - timedelta(seconds=120)), now)
    assert not accepts(SECRET, code_for(SECRET, now - timedelta(seconds=240)), now)
    assert not accepts(SECRET, code_for(SECRET, now + timedelta(seconds=120)), now)  # not yet shown


def test_window_zero_accepts_only_the_current_code_and_a_wider_window_reaches_further_back():
    """The look-back is a parameter: 0 for the strict current code, larger to recognise old codes."""
    now = T0 + timedelta(seconds=30)
    previous = code_for(SECRET, now - timedelta(seconds=120))
    assert not accepts(SECRET, previous, now, window=0)
    assert accepts(SECRET, code_for(SECRET, now - timedelta(minutes=20)), now, window=15)


@pytest.mark.parametrize(
    "typed",
    [lambda c: f"{c[:3]} {c[3:]}", lambda c: f"{c[:3]}-{c[3:]}", lambda c: f" {c} ", lambda c: c + "\t"],
)
def test_spaces_and_dashes_people_type_are_ignored(typed):
    """“123 456”, “123-456” and stray spaces are the same code as “123456”."""
    code = code_for(SECRET, T0)
    assert accepts(SECRET, typed(code), T0)


@pytest.mark.parametrize("typed", [None, "", "12345", "1234567", "abcdef", "１２３４５６", "12345x"])
def test_malformed_input_is_refused(typed):
    """Anything other than six ASCII digits is refused without error."""
    assert accepts(SECRET, typed, T0) is False


def test_an_empty_secret_accepts_nothing_and_cannot_make_codes():
    """A window without a secret can never accept a code."""
    assert accepts("", "123456", T0) is False
    with pytest.raises(ValueError):
        code_for("", T0)


def test_naive_datetimes_are_refused():
    """A naive time (server local? UTC?) would shift the period, so it is an error."""
    with pytest.raises(ValueError, match="timezone-aware"):
        code_for(SECRET, datetime(2026, 3, 3, 12, 0))  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone-aware"):
        accepts(SECRET, "123456", datetime(2026, 3, 3, 12, 0))  # noqa: DTZ001


def test_every_candidate_is_compared_in_constant_time(monkeypatch):
    """The comparison uses hmac.compare_digest for every candidate, even after a match."""
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(checkin_codes.hmac, "compare_digest", spy)
    assert accepts(SECRET, code_for(SECRET, T0), T0, window=1)
    assert len(calls) == 2


def test_seconds_left_and_period_number():
    """The display can say how long the current code remains the newest one."""
    assert seconds_left(T0) == 120
    assert seconds_left(T0 + timedelta(seconds=100)) == 20
    assert period_number(T0 + timedelta(seconds=119)) == period_number(T0)
    assert normalise(" 12 34-56 ") == "123456"
