"""Truth tables for the CE credit engine and the independent learning ledger."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from imh_course.rules.credit import (
    AttendanceFact,
    AttendanceStatus,
    CreditMode,
    CreditPolicy,
    IndependentItem,
    IndependentKind,
    MeetingWindow,
    attended_minutes,
    ce_minutes,
    credited_minutes,
    format_hours,
    independent_minutes,
    minutes_to_hours,
    scheduled_ce_minutes,
)

T0 = datetime(2025, 3, 4, 18, 0, tzinfo=UTC)
P, ABSENT, EXCUSED = AttendanceStatus.PRESENT, AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED
WHOLE = CreditPolicy(mode=CreditMode.WHOLE_MEETING)


def at(minutes: float | None) -> datetime | None:
    """Instant ``minutes`` after T0 (None stays None)."""
    return None if minutes is None else T0 + timedelta(minutes=minutes)


def meeting(length: int = 90, meeting_id: int = 1, ce_eligible: bool = True, day: int = 0) -> MeetingWindow:
    start = T0 + timedelta(days=day)
    return MeetingWindow(meeting_id, start, start + timedelta(minutes=length), ce_eligible)


def fact(arrived: float | None, departed: float | None, status=P, meeting_id: int = 1) -> AttendanceFact:
    return AttendanceFact(meeting_id, status, at(arrived), at(departed))


# (status, arrived, departed) relative to a 90-minute meeting at minute 0 -> (attended, credited 15-min steps)
NINETY_MINUTE_TABLE = [
    pytest.param(P, 0, 90, 90, 90, id="on-time-full"),
    pytest.param(AttendanceStatus.LATE, 10, 90, 80, 75, id="late-10"),
    pytest.param(AttendanceStatus.LATE, 16, 90, 74, 60, id="late-16"),
    pytest.param(AttendanceStatus.LEFT_EARLY, 0, 44, 44, 30, id="left-early-44"),
    pytest.param(AttendanceStatus.LEFT_EARLY, 0, 45, 45, 45, id="left-early-45"),
    pytest.param(AttendanceStatus.LATE, 20, 70, 50, 45, id="late-and-left-early"),
    pytest.param(P, -30, 90, 90, 90, id="sign-in-before-start"),
    pytest.param(P, 0, 150, 90, 90, id="sign-out-after-end"),
    pytest.param(P, -30, 150, 90, 90, id="both-outside-window"),
    pytest.param(P, -60, -1, 0, 0, id="entirely-before"),
    pytest.param(P, 95, 120, 0, 0, id="entirely-after"),
    pytest.param(P, 0.5, 90, 89, 75, id="seconds-floor"),
    pytest.param(P, 30, 30, 0, 0, id="departed-equals-arrived"),
    pytest.param(P, 60, 30, 0, 0, id="departed-before-arrived"),
    pytest.param(P, 0, None, 0, 0, id="sign-in-without-sign-out"),
    pytest.param(P, None, 90, 0, 0, id="sign-out-without-sign-in"),
    pytest.param(P, None, None, 0, 0, id="no-times"),
    pytest.param(ABSENT, 0, 90, 0, 0, id="absent-with-times"),
    pytest.param(EXCUSED, 0, 90, 0, 0, id="excused-with-times"),
]


@pytest.mark.parametrize(("status", "arrived", "departed", "attended", "credited"), NINETY_MINUTE_TABLE)
def test_ninety_minute_meeting_truth_table(status, arrived, departed, attended, credited):
    """Attended = overlap with the meeting window; credit rounds down to 15-minute steps."""
    f = fact(arrived, departed, status)
    assert attended_minutes(meeting(), f) == attended
    assert credited_minutes(meeting(), f) == credited


def test_no_record_credits_nothing():
    """A learner with no attendance record for a meeting gets no minutes."""
    assert attended_minutes(meeting(), None) == 0
    assert credited_minutes(meeting(), None) == 0


@pytest.mark.parametrize(
    ("length", "arrived", "departed", "credited"),
    [
        (60, 0, 60, 60),
        (60, 0, 59, 45),
        (120, 7, 120, 105),
        (120, -5, 125, 120),
        (50, 0, 50, 45),  # a full meeting of a non-multiple length still rounds down to steps
        (10, 0, 10, 0),
    ],
)
def test_increments_for_other_meeting_lengths(length, arrived, departed, credited):
    """Increments policy rounds down per meeting and never exceeds that meeting's length."""
    assert credited_minutes(meeting(length), fact(arrived, departed)) == credited


@pytest.mark.parametrize(
    ("length", "grace", "arrived", "departed", "credited"),
    [
        (90, 0, 0, 90, 90),
        (90, 0, 1, 90, 0),
        (90, 0, -10, 100, 90),
        (90, 5, 5, 90, 90),
        (90, 5, 6, 90, 0),
        (90, 5, 0, 84, 0),
        (60, 10, 10, 60, 60),
        (120, 0, 0, 119, 0),
        (30, 30, None, None, 0),  # grace covering the whole meeting never credits an empty seat
        (30, 30, 0, None, 0),
    ],
)
def test_whole_meeting_policy_with_grace(length, grace, arrived, departed, credited):
    """Whole-meeting policy grants all or nothing: full length iff attended >= length - grace."""
    policy = CreditPolicy(mode=CreditMode.WHOLE_MEETING, grace_minutes=grace)
    assert credited_minutes(meeting(length), fact(arrived, departed), policy) == credited


def test_non_ce_meeting_credits_nothing_but_still_counts_attendance():
    """Only CE-eligible meetings earn CE minutes; attendance itself is still measured."""
    m = meeting(ce_eligible=False)
    assert attended_minutes(m, fact(0, 90)) == 90
    assert credited_minutes(m, fact(0, 90)) == 0
    assert credited_minutes(m, fact(0, 90), WHOLE) == 0


def test_non_utc_aware_times_compare_by_instant():
    """An arrival recorded with another UTC offset is the same instant, not a shifted one."""
    eastern = timezone(timedelta(hours=-5))
    f = AttendanceFact(1, P, T0.astimezone(eastern), (T0 + timedelta(minutes=90)).astimezone(eastern))
    assert attended_minutes(meeting(), f) == 90


@pytest.mark.parametrize("which", ["arrived", "departed"])
def test_naive_attendance_times_are_rejected(which):
    """Naive datetimes are ambiguous, so computing minutes from them is an error."""
    times = {"arrived": T0, "departed": T0 + timedelta(minutes=90)}
    times[which] = times[which].replace(tzinfo=None)
    with pytest.raises(ValueError, match="timezone-aware"):
        attended_minutes(meeting(), AttendanceFact(1, P, **times))


def test_meeting_window_validation():
    """A meeting must have aware times and end after it starts."""
    with pytest.raises(ValueError, match="timezone-aware"):
        MeetingWindow(1, T0.replace(tzinfo=None), T0.replace(tzinfo=None) + timedelta(hours=1))
    with pytest.raises(ValueError, match="after start"):
        MeetingWindow(1, T0, T0)
    assert MeetingWindow(1, T0, T0 + timedelta(minutes=90, seconds=59)).length_minutes == 90


@pytest.mark.parametrize(
    "kwargs",
    [
        {"minutes_per_hour": 0},
        {"minutes_per_hour": -60},
        {"increment_minutes": 0},
        {"increment_minutes": 1.5},
        {"increment_minutes": True},
        {"grace_minutes": -1},
        {"mode": "increments"},
    ],
)
def test_credit_policy_rejects_bad_settings(kwargs):
    """A misconfigured policy fails at construction, not later as a wrong credit."""
    with pytest.raises(ValueError):
        CreditPolicy(**kwargs)


def test_eleven_full_sessions_are_sixteen_and_a_half_hours():
    """The course's 11 sessions x 90 minutes = 990 minutes = 16.50 CE hours."""
    meetings = [meeting(meeting_id=i, day=7 * i) for i in range(11)]
    facts = [AttendanceFact(i, P, m.start, m.end) for i, m in enumerate(meetings)]
    assert scheduled_ce_minutes(meetings) == 990
    assert ce_minutes(meetings, facts) == 990
    assert minutes_to_hours(990) == Decimal("16.50")
    assert format_hours(minutes_to_hours(990)) == "16.50"
    assert format_hours(minutes_to_hours(ce_minutes(meetings, facts[:10]))) == "15.00"


def test_ce_total_ignores_foreign_facts_and_non_ce_meetings():
    """Facts for other meetings are ignored and non-CE meetings are not on the CE schedule."""
    meetings = [meeting(meeting_id=1), meeting(60, meeting_id=2, ce_eligible=False, day=7)]
    facts = [fact(0, 90), AttendanceFact(2, P, at(7 * 1440), at(7 * 1440 + 60)), fact(0, 90, meeting_id=99)]
    assert scheduled_ce_minutes(meetings) == 90
    assert ce_minutes(meetings, facts) == 90


def test_duplicate_records_are_rejected():
    """One record per learner per meeting: duplicates are a bug, never silently resolved."""
    with pytest.raises(ValueError, match="two attendance facts"):
        ce_minutes([meeting()], [fact(0, 90), fact(0, 45)])
    with pytest.raises(ValueError, match="listed twice"):
        ce_minutes([meeting(), meeting()], [fact(0, 90)])


@pytest.mark.parametrize(
    ("minutes", "per_hour", "hours"),
    [
        (990, 60, "16.50"),
        (0, 60, "0.00"),
        (1, 60, "0.01"),
        (59, 60, "0.98"),
        (89, 60, "1.48"),
        (990, 50, "19.80"),
        (100, 50, "2.00"),
        (7, 50, "0.14"),
    ],
)
def test_minutes_to_hours_rounds_down(minutes, per_hour, hours):
    """Hours have two decimals and are rounded down so CE is never over-credited."""
    result = minutes_to_hours(minutes, CreditPolicy(minutes_per_hour=per_hour))
    assert result == Decimal(hours)
    assert str(result) == hours


@pytest.mark.parametrize(
    ("hours", "text"),
    [("16.5", "16.50"), ("16.509", "16.50"), ("16.999", "16.99"), ("0", "0.00"), ("1E+1", "10.00")],
)
def test_format_hours_shows_two_decimals_without_rounding_up(hours, text):
    """Displayed hours always have two decimals and never round up."""
    assert format_hours(Decimal(hours)) == text


def test_impossible_hours_are_rejected():
    """Negative minutes or NaN hours can only come from a bug and must never reach a certificate."""
    with pytest.raises(ValueError):
        minutes_to_hours(-1)
    with pytest.raises(ValueError):
        format_hours(Decimal("NaN"))


def item(kind: IndependentKind, key: str, minutes: int, done: bool = True) -> IndependentItem:
    return IndependentItem(kind, key, minutes, done)


def test_independent_minutes_counts_done_items_once():
    """Independent hours are authored estimates of done items, each item counted once per kind."""
    items = [
        item(IndependentKind.READING, "r1", 30),
        item(IndependentKind.READING, "r1", 30),
        item(IndependentKind.QUIZ, "r1", 10),
        item(IndependentKind.EXERCISE, "e1", 45, done=False),
        item(IndependentKind.QUIZ, "q1", 10, done=False),
        item(IndependentKind.QUIZ, "q1", 10),
    ]
    assert independent_minutes(items) == 50
    assert independent_minutes([]) == 0


def test_independent_duplicates_with_different_estimates_use_the_largest():
    """Conflicting estimates for one item resolve the same way whatever the record order."""
    a, b = item(IndependentKind.EXERCISE, "e1", 20), item(IndependentKind.EXERCISE, "e1", 35)
    assert independent_minutes([a, b]) == independent_minutes([b, a]) == 35


def test_independent_item_rejects_negative_estimate():
    """An authored estimate cannot be negative."""
    with pytest.raises(ValueError):
        item(IndependentKind.READING, "r1", -5)
