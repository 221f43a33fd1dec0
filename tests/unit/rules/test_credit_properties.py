"""Ledger invariants: properties that must hold for any schedule, and the two-ledger guarantees."""

import inspect
import typing
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imh_course.rules import credit
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
    independent_minutes,
    minutes_to_hours,
    scheduled_ce_minutes,
)

# No deadline: a slow, loaded CI machine must not fail a test of pure arithmetic.
pure = settings(deadline=None, max_examples=150)

T0 = datetime(2025, 3, 4, 18, 0, tzinfo=UTC)
ATTENDING = [AttendanceStatus.PRESENT, AttendanceStatus.LATE, AttendanceStatus.LEFT_EARLY]

policies = st.builds(
    CreditPolicy,
    mode=st.sampled_from(CreditMode),
    minutes_per_hour=st.integers(50, 60),
    increment_minutes=st.integers(1, 60),
    grace_minutes=st.integers(0, 30),
)
offsets = st.integers(-7200, 21600).map(lambda s: timedelta(seconds=s))  # -2 h .. +6 h from start
optional_offsets = st.one_of(offsets, offsets, offsets, st.none())  # mostly complete records, some open
independent_items = st.lists(
    st.builds(
        IndependentItem,
        kind=st.sampled_from(IndependentKind),
        key=st.sampled_from(["r1", "r2", "e1", "q1"]),
        estimated_minutes=st.integers(0, 100_000),
        done=st.booleans(),
    ),
    max_size=20,
)


@st.composite
def schedules(draw: st.DrawFn) -> tuple[list[MeetingWindow], list[AttendanceFact]]:
    """Meetings one week apart with at most one fact each, plus facts for unknown meetings."""
    meetings, facts = [], []
    for i in range(draw(st.integers(0, 12))):
        start = T0 + timedelta(weeks=i)
        length = draw(st.integers(1, 240))
        meetings.append(MeetingWindow(i, start, start + timedelta(minutes=length), draw(st.booleans())))
        if draw(st.booleans()):
            arrived, departed = draw(optional_offsets), draw(optional_offsets)
            facts.append(
                AttendanceFact(
                    i,
                    draw(st.sampled_from(AttendanceStatus)),
                    None if arrived is None else start + arrived,
                    None if departed is None else start + departed,
                )
            )
    if draw(st.booleans()):
        facts.append(AttendanceFact(1000, AttendanceStatus.PRESENT, T0, T0 + timedelta(hours=3)))
    return meetings, facts


@pure
@given(schedules(), policies)
def test_ce_never_exceeds_scheduled_ce_minutes(schedule, policy):
    """No learner earns more CE minutes than the CE-eligible meetings scheduled."""
    meetings, facts = schedule
    assert 0 <= ce_minutes(meetings, facts, policy) <= scheduled_ce_minutes(meetings)


@pure
@given(schedules(), policies, independent_items)
def test_independent_work_never_changes_ce(schedule, policy, items):
    """Two ledgers: any amount of independent work leaves CE minutes exactly as they were."""
    meetings, facts = schedule
    before = ce_minutes(meetings, facts, policy)
    independent = independent_minutes(items)
    assert ce_minutes(meetings, facts, policy) == before
    assert independent_minutes(items) == independent


@pure
@given(schedules(), policies)
def test_ce_is_the_sum_of_per_meeting_credit(schedule, policy):
    """Each meeting is credited on its own; the total is their plain sum."""
    meetings, facts = schedule
    by_id = {f.meeting_id: f for f in facts}
    expected = sum(credited_minutes(m, by_id.get(m.meeting_id), policy) for m in meetings)
    assert ce_minutes(meetings, facts, policy) == expected


@pure
@given(schedules(), policies, st.randoms(use_true_random=False))
def test_ce_is_independent_of_record_order(schedule, policy, rnd):
    """CE minutes depend on which records exist, not on the order the database returns them."""
    meetings, facts = schedule
    shuffled_meetings, shuffled_facts = list(meetings), list(facts)
    rnd.shuffle(shuffled_meetings)
    rnd.shuffle(shuffled_facts)
    assert ce_minutes(shuffled_meetings, shuffled_facts, policy) == ce_minutes(meetings, facts, policy)


@pure
@given(
    st.integers(1, 240),
    st.booleans(),
    policies,
    st.sampled_from(ATTENDING),
    offsets,
    offsets,
    st.integers(0, 240),
    st.integers(0, 240),
)
def test_longer_attendance_never_earns_less(length, eligible, policy, status, a, d, earlier, later):
    """Arriving earlier or leaving later never lowers a meeting's credit, under either policy."""
    m = MeetingWindow(1, T0, T0 + timedelta(minutes=length), eligible)
    narrow = AttendanceFact(1, status, T0 + a, T0 + d)
    wide = AttendanceFact(1, status, T0 + a - timedelta(minutes=earlier), T0 + d + timedelta(minutes=later))
    assert credited_minutes(m, wide, policy) >= credited_minutes(m, narrow, policy)
    assert ce_minutes([m], [wide], policy) >= ce_minutes([m], [narrow], policy)


@pure
@given(st.integers(1, 240), policies, st.sampled_from(ATTENDING), offsets, offsets)
def test_recording_a_departure_never_lowers_credit(length, policy, status, a, d):
    """A sign-in without sign-out credits nothing, and recording the departure can only add credit."""
    m = MeetingWindow(1, T0, T0 + timedelta(minutes=length))
    open_fact = AttendanceFact(1, status, T0 + a)
    closed_fact = AttendanceFact(1, status, T0 + a, T0 + d)
    assert credited_minutes(m, open_fact, policy) == 0
    assert credited_minutes(m, closed_fact, policy) >= credited_minutes(m, open_fact, policy)


@pure
@given(st.integers(0, 10**9), st.integers(1, 120))
def test_hours_never_over_credit(minutes, per_hour):
    """Displayed hours never exceed the minutes and lose less than one hundredth of an hour."""
    hours = minutes_to_hours(minutes, CreditPolicy(minutes_per_hour=per_hour))
    assert hours.as_tuple().exponent == -2
    assert hours * per_hour <= minutes < (hours + Decimal("0.01")) * per_hour


@pure
@given(independent_items, st.randoms(use_true_random=False))
def test_independent_minutes_ignore_order_and_duplicates(items, rnd):
    """Independent minutes count each item once, whatever the order of the records."""
    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert independent_minutes(shuffled) == independent_minutes(items) == independent_minutes(items + items)


CE_FUNCTIONS = [attended_minutes, credited_minutes, ce_minutes, scheduled_ce_minutes, minutes_to_hours]


@pytest.mark.parametrize("func", CE_FUNCTIONS, ids=lambda f: f.__name__)
def test_ce_functions_accept_no_independent_items(func):
    """Two ledgers: no CE function has a parameter that could take independent learning."""
    hints = typing.get_type_hints(func, vars(credit))
    for name in inspect.signature(func).parameters:
        assert "IndependentItem" not in repr(hints[name]), name
        assert "IndependentKind" not in repr(hints[name]), name


def test_independent_items_passed_as_facts_are_refused():
    """Smuggling independent work into the CE calculation fails loudly instead of counting."""
    with pytest.raises(TypeError, match="AttendanceFact"):
        ce_minutes(
            [MeetingWindow(1, T0, T0 + timedelta(minutes=90))],
            [IndependentItem(IndependentKind.READING, "r1", 600, True)],
        )
