"""When reminders and "no sign-out recorded" notices are due (plain functions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from imh_course.rules.reminders import (
    reminder_day,
    reminder_due,
    reminder_key,
    reminder_window,
    sign_out_key,
    sign_out_missing,
)

NY = "America/New_York"
ZONE = ZoneInfo(NY)


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=ZONE)


def test_a_tuesday_meeting_is_reminded_on_monday_local_time():
    start = local(2026, 12, 8, 12, 0)  # Tue noon EST
    assert reminder_day(start, NY).isoformat() == "2026-12-07"
    assert reminder_due(start, local(2026, 12, 7, 0, 1), NY)
    assert reminder_due(start, local(2026, 12, 7, 23, 59), NY)
    assert not reminder_due(start, local(2026, 12, 6, 23, 59), NY)  # two days before
    assert not reminder_due(start, local(2026, 12, 8, 9, 0), NY)  # the same day: too late


def test_the_day_is_the_local_one_not_utc():
    """Monday 8 pm in New York is Tuesday in UTC; a Wednesday morning meeting is still two days off."""
    now = local(2026, 12, 7, 20, 0)
    assert now.astimezone(UTC).day == 8
    assert not reminder_due(local(2026, 12, 9, 9, 0), now, NY)
    assert reminder_due(local(2026, 12, 8, 9, 0), now, NY)


def test_window_is_tomorrow_local_midnight_to_midnight():
    low, high = reminder_window(local(2026, 12, 7, 9, 30), NY)
    assert (low, high) == (local(2026, 12, 8), local(2026, 12, 9))
    assert reminder_due(local(2026, 12, 8), local(2026, 12, 7, 9, 30), NY)
    assert not reminder_due(local(2026, 12, 9), local(2026, 12, 7, 9, 30), NY)


def test_across_the_daylight_saving_change():
    """Sunday Nov 1 2026 has 25 hours in New York; the window still ends at local midnight."""
    low, high = reminder_window(local(2026, 10, 31, 12, 0), NY)
    assert high.astimezone(UTC) - low.astimezone(UTC) == timedelta(hours=25)


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        reminder_due(datetime(2026, 12, 8, 12), local(2026, 12, 7, 12), NY)


def test_sign_out_missing_after_the_meeting_for_a_recent_sign_in_only():
    end = local(2026, 12, 8, 13, 30)
    arrived = local(2026, 12, 8, 12, 0)
    after = end + timedelta(minutes=1)
    assert sign_out_missing(end, arrived, None, after, attended=True)
    assert not sign_out_missing(end, arrived, None, end - timedelta(minutes=1), attended=True)  # not over
    assert not sign_out_missing(end, arrived, end, after, attended=True)  # signed out
    assert not sign_out_missing(end, None, None, after, attended=True)  # never signed in
    assert not sign_out_missing(end, arrived, None, after, attended=False)  # absent, excused
    assert not sign_out_missing(end, arrived, None, end + timedelta(days=8), attended=True)  # old history


def test_keys_name_the_meeting_and_the_learner():
    assert reminder_key(3, 7) == "meeting_reminder:3:7" != sign_out_key(3, 7)
