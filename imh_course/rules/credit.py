"""The two ledgers: CE contact minutes and independent learning minutes.

CE minutes come only from attendance at CE-eligible face-to-face meetings; independent learning
minutes come only from completed readings, submitted exercises and passed quizzes. No function
computing CE accepts independent items, so no code path can add independent work to CE, whatever
its size. Every rounding errs toward the learner getting *less* credit: a CE certificate that
over-states hours is a liability for the licensee on audit, one that under-states is not.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

_MINUTE = timedelta(minutes=1)
_CENT = Decimal("0.01")


class AttendanceStatus(StrEnum):
    """How a learner's presence at a meeting was recorded (a label; minutes come from times)."""

    PRESENT = "present"
    LATE = "late"
    LEFT_EARLY = "left_early"
    ABSENT = "absent"
    EXCUSED = "excused"


class CreditMode(StrEnum):
    """How attended minutes of one meeting become credited minutes."""

    INCREMENTS = "increments"
    WHOLE_MEETING = "whole_meeting"


def _require_positive_int(name: str, value: object, *, allow_zero: bool = False) -> None:
    # bool is an int subclass; True as "1 minute" would be a silent configuration bug.
    if isinstance(value, bool) or not isinstance(value, int) or value < (0 if allow_zero else 1):
        kind = "a non-negative" if allow_zero else "a positive"
        raise ValueError(f"{name} must be {kind} integer, got {value!r}")


def _require_aware(name: str, value: datetime) -> None:
    # Naive datetimes are ambiguous (server local time? UTC?) and would silently shift credit.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value!r}")


@dataclass(frozen=True)
class CreditPolicy:
    """Configurable credit settings; the defaults are the agency's (60 min per CE hour, 15-min steps).

    NYSED sets no rule on partial credit, hence a policy rather than constants.
    """

    mode: CreditMode = CreditMode.INCREMENTS
    minutes_per_hour: int = 60
    increment_minutes: int = 15
    grace_minutes: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.mode, CreditMode):
            raise ValueError(f"mode must be a CreditMode, got {self.mode!r}")
        _require_positive_int("minutes_per_hour", self.minutes_per_hour)
        _require_positive_int("increment_minutes", self.increment_minutes)
        _require_positive_int("grace_minutes", self.grace_minutes, allow_zero=True)


@dataclass(frozen=True)
class MeetingWindow:
    """A scheduled face-to-face meeting: the only source of CE minutes when ``ce_eligible``."""

    meeting_id: int
    start: datetime
    end: datetime
    ce_eligible: bool = True

    def __post_init__(self) -> None:
        _require_aware("start", self.start)
        _require_aware("end", self.end)
        if self.end <= self.start:
            raise ValueError(f"meeting {self.meeting_id}: end must be after start")

    @property
    def length_minutes(self) -> int:
        """Scheduled length in whole minutes (a stray second never rounds up)."""
        return (self.end - self.start) // _MINUTE


@dataclass(frozen=True)
class AttendanceFact:
    """One learner's record for one meeting: sign-in/out or the instructor's arrival/departure."""

    meeting_id: int
    status: AttendanceStatus
    arrived: datetime | None = None
    departed: datetime | None = None


def attended_minutes(meeting: MeetingWindow, fact: AttendanceFact | None) -> int:
    """Whole minutes of overlap between the learner's [arrived, departed] and the meeting window.

    Absent/excused or no record gives 0. A sign-in without a sign-out gives 0 until someone records
    the departure, so a forgotten sign-out cannot turn into a full meeting. Time before the start
    or after the end never counts.
    """
    if fact is None:
        return 0
    return meeting_credit(meeting)(fact.status, fact.arrived, fact.departed)[0]


def credited_minutes(
    meeting: MeetingWindow, fact: AttendanceFact | None, policy: CreditPolicy = CreditPolicy()
) -> int:
    """CE minutes granted for one meeting under ``policy``; 0 for a meeting that is not CE-eligible.

    ``increments`` rounds attended minutes down to whole steps, capped at the meeting's length.
    ``whole_meeting`` grants the full length if attended >= length - grace, else nothing; it also
    requires some attendance, so a grace as long as the meeting cannot credit an empty seat.
    """
    if not meeting.ce_eligible or fact is None:
        return 0
    return meeting_credit(meeting, policy)(fact.status, fact.arrived, fact.departed)[1]


#: ``(status, arrived, departed) -> (attended, credited)`` for one meeting: see :func:`meeting_credit`.
RecordCredit = Callable[[AttendanceStatus, datetime | None, datetime | None], tuple[int, int]]
_NO_PRESENCE = (AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED)


def _checked(name: str, moment: datetime | None) -> None:
    # UTC (what the database layer returns) is aware by definition: skip the utcoffset() call.
    if moment is not None and moment.tzinfo is not UTC:
        _require_aware(name, moment)


def meeting_credit(meeting: MeetingWindow, policy: CreditPolicy = CreditPolicy()) -> RecordCredit:
    """``attended_minutes`` and ``credited_minutes`` of one meeting, for a whole cohort's records:
    the one implementation of the credit rule (the two per-record functions call it).

    A report credits thousands of records of the same few meetings: the meeting and the policy are
    read once here, and each record (status, arrived, departed) is still checked as
    ``attended_minutes`` checks it (naive times raise ValueError). The results equal the two
    per-record functions for every input (property-tested); no independent work can enter.
    """
    start, end = meeting.start, meeting.end
    length = meeting.length_minutes
    eligible = meeting.ce_eligible
    whole = policy.mode is CreditMode.WHOLE_MEETING
    needed = length - policy.grace_minutes
    step = policy.increment_minutes

    def credit(
        status: AttendanceStatus, arrived: datetime | None, departed: datetime | None
    ) -> tuple[int, int]:
        _checked("arrived", arrived)
        _checked("departed", departed)
        attended = 0
        if status not in _NO_PRESENCE and arrived is not None and departed is not None:
            begin = arrived if arrived > start else start
            finish = departed if departed < end else end
            if finish > begin:
                attended = (finish - begin) // _MINUTE
        if not eligible:
            return attended, 0
        if whole:
            return attended, (length if attended > 0 and attended >= needed else 0)
        return attended, min(attended // step * step, length)

    return credit


def ce_minutes(
    meetings: Iterable[MeetingWindow],
    facts: Iterable[AttendanceFact],
    policy: CreditPolicy = CreditPolicy(),
) -> int:
    """Total credited CE minutes of one learner over an offering's meetings.

    Facts for meetings not listed are ignored (e.g. another offering). Duplicate meetings or two
    facts for one meeting raise ValueError: the database holds one record per learner per meeting,
    and silently picking one would make the total depend on row order. Anything other than
    meetings and attendance facts raises TypeError.
    """
    by_meeting: dict[int, AttendanceFact] = {}
    for fact in facts:
        # A runtime guard too: an IndependentItem smuggled in as a "fact" must fail, not count.
        if not isinstance(fact, AttendanceFact):
            raise TypeError(f"CE is computed from AttendanceFact only, got {type(fact).__name__}")
        if fact.meeting_id in by_meeting:
            raise ValueError(f"two attendance facts for meeting {fact.meeting_id}")
        by_meeting[fact.meeting_id] = fact
    seen: set[int] = set()
    total = 0
    for meeting in meetings:
        if not isinstance(meeting, MeetingWindow):
            raise TypeError(f"CE is computed from MeetingWindow only, got {type(meeting).__name__}")
        if meeting.meeting_id in seen:
            raise ValueError(f"meeting {meeting.meeting_id} listed twice")
        seen.add(meeting.meeting_id)
        total += credited_minutes(meeting, by_meeting.get(meeting.meeting_id), policy)
    return total


def scheduled_ce_minutes(meetings: Iterable[MeetingWindow]) -> int:
    """Minutes of CE-eligible meetings on the schedule: the ceiling for any learner's CE minutes."""
    return sum(m.length_minutes for m in meetings if m.ce_eligible)


def minutes_to_hours(minutes: int, policy: CreditPolicy = CreditPolicy()) -> Decimal:
    """Convert minutes to hours with two decimals, rounded down so CE is never over-stated.

    Integer arithmetic keeps the result exact (990 min -> Decimal("16.50")) whatever the
    ambient decimal context.
    """
    _require_positive_int("minutes", minutes, allow_zero=True)
    hundredths = minutes * 100 // policy.minutes_per_hour
    return Decimal(hundredths).scaleb(-2)


def format_hours(hours: Decimal) -> str:
    """Render hours with exactly two decimals ("16.50"), truncating extra digits rather than rounding up."""
    if not hours.is_finite():
        raise ValueError(f"hours must be finite, got {hours!r}")
    return f"{hours.quantize(_CENT, rounding=ROUND_DOWN):f}"


class IndependentKind(StrEnum):
    """Kinds of independent learning; never CE-eligible."""

    READING = "reading"
    EXERCISE = "exercise"
    QUIZ = "quiz"


@dataclass(frozen=True)
class IndependentItem:
    """One piece of independent work, valued at its authored estimate (not time on page).

    ``done`` means reading marked complete, exercise submitted, or quiz passed.
    """

    kind: IndependentKind
    key: str
    estimated_minutes: int
    done: bool

    def __post_init__(self) -> None:
        _require_positive_int("estimated_minutes", self.estimated_minutes, allow_zero=True)


def independent_minutes(items: Iterable[IndependentItem]) -> int:
    """Independent learning minutes: estimates of done items, each (kind, key) counted once.

    Several records for one item (e.g. quiz attempts) must not multiply its value; if their
    estimates differ, the largest is used so the result does not depend on record order.
    """
    best: dict[tuple[IndependentKind, str], int] = {}
    for item in items:
        if item.done:
            ident = (item.kind, item.key)
            best[ident] = max(best.get(ident, 0), item.estimated_minutes)
    return sum(best.values())


def independent_minutes_by(
    done: Mapping[IndependentKind, Iterable[tuple[Hashable, str, int]]],
) -> dict[Hashable, int]:
    """:func:`independent_minutes` of many learners at once, from plain tuples.

    ``done`` lists, for each kind, the *done* items as ``(learner, key, estimated minutes)``. Same
    rules as ``independent_minutes`` for each learner (each (kind, key) counted once, at its largest
    estimate; estimates must be non-negative integers), without one ``IndependentItem`` per item.
    Learners without items are absent from the result.
    """
    totals: dict[Hashable, int] = {}
    for items in done.values():
        best: dict[tuple[Hashable, str], int] = {}
        for owner, key, minutes in items:
            if minutes.__class__ is not int or minutes < 0:
                _require_positive_int("estimated_minutes", minutes, allow_zero=True)
            ident = (owner, key)
            if minutes > best.get(ident, -1):
                best[ident] = minutes
        for (owner, _key), minutes in best.items():
            totals[owner] = totals.get(owner, 0) + minutes
    return totals
