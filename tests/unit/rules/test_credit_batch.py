"""The batch credit functions (used by cohort reports) equal the per-record rules on any input."""

from datetime import UTC, datetime, timedelta, timezone, tzinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imh_course.rules.credit import (
    AttendanceFact,
    AttendanceStatus,
    CreditMode,
    CreditPolicy,
    IndependentItem,
    IndependentKind,
    MeetingWindow,
    attended_minutes,
    credited_minutes,
    independent_minutes,
    independent_minutes_by,
    meeting_credit,
)

pure = settings(deadline=None, max_examples=300)

T0 = datetime(2025, 3, 4, 18, 0, tzinfo=UTC)
ZONES = [UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))]

policies = st.builds(
    CreditPolicy,
    mode=st.sampled_from(CreditMode),
    minutes_per_hour=st.integers(50, 60),
    increment_minutes=st.integers(1, 60),
    grace_minutes=st.integers(0, 240),
)
# Seconds, not minutes: a stray second must round exactly as the per-record rule rounds it.
offsets = st.integers(-7200, 21600).map(lambda s: timedelta(seconds=s))


@st.composite
def meetings(draw: st.DrawFn) -> MeetingWindow:
    start = T0 + timedelta(seconds=draw(st.integers(0, 3600)))
    length = timedelta(seconds=draw(st.integers(1, 4 * 3600)))
    return MeetingWindow(7, start, start + length, draw(st.booleans()))


@st.composite
def moments(draw: st.DrawFn, meeting: MeetingWindow) -> datetime | None:
    if draw(st.integers(0, 4)) == 0:
        return None
    zone: tzinfo = draw(st.sampled_from(ZONES))
    return (meeting.start + draw(offsets)).astimezone(zone)


@pure
@given(st.data(), meetings(), policies)
def test_meeting_credit_equals_the_per_record_rules(data: st.DataObject, meeting, policy) -> None:
    """(attended, credited) from the batch calculator == attended_minutes / credited_minutes."""
    credit = meeting_credit(meeting, policy)
    for _ in range(5):
        fact = AttendanceFact(
            meeting.meeting_id,
            data.draw(st.sampled_from(AttendanceStatus)),
            data.draw(moments(meeting)),
            data.draw(moments(meeting)),
        )
        expected = (attended_minutes(meeting, fact), credited_minutes(meeting, fact, policy))
        assert credit(fact.status, fact.arrived, fact.departed) == expected


@pytest.mark.parametrize("status", list(AttendanceStatus))
@pytest.mark.parametrize("which", ["arrived", "departed"])
def test_meeting_credit_refuses_naive_times_like_the_per_record_rule(status, which) -> None:
    """A naive time raises the same ValueError, whatever the status (absent included)."""
    meeting = MeetingWindow(1, T0, T0 + timedelta(minutes=90))
    times = {"arrived": T0, "departed": T0 + timedelta(minutes=90)}
    times[which] = times[which].replace(tzinfo=None)
    fact = AttendanceFact(1, status, times["arrived"], times["departed"])
    with pytest.raises(ValueError, match=f"{which} must be a timezone-aware") as per_record:
        attended_minutes(meeting, fact)
    with pytest.raises(ValueError, match=f"{which} must be a timezone-aware") as batch:
        meeting_credit(meeting)(status, times["arrived"], times["departed"])
    assert str(batch.value) == str(per_record.value)


class NoOffset(tzinfo):
    """A tzinfo whose utcoffset() is None: as ambiguous as a naive datetime."""

    def utcoffset(self, dt: datetime | None) -> None:
        return None


def test_meeting_credit_refuses_a_zone_without_offset() -> None:
    meeting = MeetingWindow(1, T0, T0 + timedelta(minutes=90))
    odd = datetime(2025, 3, 4, 18, 30, tzinfo=NoOffset())
    with pytest.raises(ValueError, match="arrived must be a timezone-aware"):
        meeting_credit(meeting)(AttendanceStatus.LATE, odd, T0 + timedelta(minutes=90))


items = st.lists(
    st.tuples(
        st.integers(1, 4),  # learner
        st.sampled_from(IndependentKind),
        st.sampled_from(["r1", "r2", "e1", "q1"]),
        st.integers(0, 100_000),
        st.booleans(),  # done
    ),
    max_size=40,
)


@pure
@given(items)
def test_independent_minutes_by_learner_equals_independent_minutes(drawn) -> None:
    """Per learner, the batch total == independent_minutes over that learner's items."""
    done: dict[IndependentKind, list] = {}
    for owner, kind, key, minutes, is_done in drawn:
        if is_done:
            done.setdefault(kind, []).append((owner, key, minutes))
    batch = independent_minutes_by(done)
    for owner in {row[0] for row in drawn}:
        mine = [IndependentItem(k, key, m, d) for o, k, key, m, d in drawn if o == owner]
        assert batch.get(owner, 0) == independent_minutes(mine)


@pytest.mark.parametrize("minutes", [-1, True, 1.5, "10", None])
def test_independent_minutes_by_refuses_what_an_item_refuses(minutes) -> None:
    with pytest.raises(ValueError, match="estimated_minutes must be a non-negative integer"):
        IndependentItem(IndependentKind.READING, "r1", minutes, True)
    with pytest.raises(ValueError, match="estimated_minutes must be a non-negative integer"):
        independent_minutes_by({IndependentKind.READING: [(1, "r1", minutes)]})
