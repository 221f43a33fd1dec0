"""The outbox's retry schedule: longer waits after each failure, give up on permanent errors."""

from datetime import timedelta

import pytest

from imh_course.rules.outbox import (
    BACKOFF,
    DEFAULT_MAX_ATTEMPTS,
    after_failure,
    backoff_delay,
    is_permanent_smtp_code,
)


def test_each_failure_waits_at_least_as_long_as_the_one_before():
    """A server that stays down is asked less and less often, never more."""
    delays = [backoff_delay(n) for n in range(1, 12)]
    assert delays[0] == timedelta(minutes=1)
    assert all(a <= b for a, b in zip(delays, delays[1:], strict=False))
    assert delays[-1] == BACKOFF[-1]


def test_no_failure_means_no_wait():
    assert backoff_delay(0) == timedelta(0)


@pytest.mark.parametrize("attempts", range(1, DEFAULT_MAX_ATTEMPTS))
def test_a_temporary_failure_is_retried_until_the_limit(attempts):
    step = after_failure(attempts, permanent=False)
    assert not step.give_up and step.delay == backoff_delay(attempts)


def test_the_last_allowed_attempt_gives_up():
    assert after_failure(DEFAULT_MAX_ATTEMPTS, permanent=False).give_up
    assert after_failure(3, permanent=False, max_attempts=3).give_up


def test_a_permanent_failure_gives_up_at_once():
    assert after_failure(1, permanent=True).give_up


@pytest.mark.parametrize(
    ("code", "permanent"), [(550, True), (554, True), (421, False), (451, False), (None, False)]
)
def test_smtp_5xx_is_permanent_and_4xx_temporary(code, permanent):
    assert is_permanent_smtp_code(code) is permanent
