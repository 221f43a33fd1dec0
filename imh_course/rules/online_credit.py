"""Credit of a live online meeting from a participant report's joins (pure).

A person's joins are merged (rejoins, two devices at once count once), clipped to the meeting's
window, and the attended minutes go through the one credit rule (``rules/credit.meeting_credit``:
the same increments or whole-meeting policy as in the room). A join without a leave time credits
nothing, as a sign-in without a sign-out does, and is flagged.

The attendance record holds one arrival/departure pair, from which every page and export computes
credit. ``record_times`` gives the pair whose credit equals the intervals' exactly: the first join
(clipped) and that moment plus the attended minutes; the intervals themselves are kept in the
record's evidence, so every number can be traced back to the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .credit import AttendanceStatus, CreditPolicy, MeetingWindow, meeting_credit

_MINUTE = timedelta(minutes=1)
#: a report whose joins all lie this far from the meeting is another meeting's
DATE_SLACK = timedelta(hours=3)


@dataclass(frozen=True, order=True)
class Interval:
    start: datetime
    end: datetime

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Overlapping or touching intervals joined into one, in order."""
    merged: list[Interval] = []
    for item in sorted(intervals):
        if item.end <= item.start:
            continue
        if merged and item.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Interval(last.start, max(last.end, item.end))
        else:
            merged.append(item)
    return merged


def clip(intervals: Iterable[Interval], meeting: MeetingWindow) -> list[Interval]:
    """The parts of ``intervals`` inside the meeting's [start, end]."""
    clipped = []
    for item in intervals:
        start, end = max(item.start, meeting.start), min(item.end, meeting.end)
        if end > start:
            clipped.append(Interval(start, end))
    return clipped


@dataclass(frozen=True)
class OnlineCredit:
    """One person's meeting from the report: merged intervals (unclipped, as the file says),
    the part inside the window, attended and credited minutes, and joins without a leave time."""

    intervals: tuple[Interval, ...]
    inside: tuple[Interval, ...]
    attended: int
    credited: int
    open_joins: tuple[datetime, ...] = ()

    def record_times(
        self, meeting: MeetingWindow
    ) -> tuple[AttendanceStatus, datetime | None, datetime | None]:
        """The (status, arrived, departed) to store: same credit as the intervals under any policy.

        Only a join without a leave time: the arrival without a departure, which credits nothing
        and which the roster flags until staff record the departure."""
        if self.attended <= 0:
            if self.open_joins and self.open_joins[0] < meeting.end:
                # joined, no leave time: like a sign-in without a sign-out (credits nothing, flagged)
                return AttendanceStatus.PRESENT, max(self.open_joins[0], meeting.start), None
            return AttendanceStatus.ABSENT, None, None
        arrived = self.inside[0].start
        departed = arrived + self.attended * _MINUTE
        if arrived <= meeting.start and departed >= meeting.end:
            return AttendanceStatus.PRESENT, meeting.start, meeting.end
        if arrived > meeting.start:
            return AttendanceStatus.LATE, arrived, departed
        return AttendanceStatus.LEFT_EARLY, arrived, departed


def online_credit(
    meeting: MeetingWindow,
    joins: Iterable[tuple[datetime, datetime | None]],
    policy: CreditPolicy | None = None,
) -> OnlineCredit:
    """Merge, clip and credit one person's ``(join, leave)`` pairs (leave None: not credited)."""
    policy = policy if policy is not None else CreditPolicy()
    closed, open_joins = [], []
    for join, leave in joins:
        if leave is None:
            open_joins.append(join)
        else:
            closed.append(Interval(join, leave))
    merged = merge(closed)
    inside = clip(merged, meeting)
    attended = sum(i.seconds for i in inside) // 60
    # The one credit rule, fed the contiguous span of the attended minutes.
    credit = meeting_credit(meeting, policy)
    if attended > 0:
        _same, credited = credit(AttendanceStatus.PRESENT, meeting.start, meeting.start + attended * _MINUTE)
    else:
        credited = 0
    return OnlineCredit(tuple(merged), tuple(inside), attended, credited, tuple(sorted(open_joins)))


def date_problem(meeting: MeetingWindow, joins: Iterable[datetime], zone: ZoneInfo) -> str | None:
    """Why a report is not this meeting's (no join within hours of it), or None."""
    moments = sorted(joins)
    if not moments:
        return None
    if any(meeting.start - DATE_SLACK <= m <= meeting.end + DATE_SLACK for m in moments):
        return None
    days: list[date] = sorted({m.astimezone(zone).date() for m in moments})
    shown = ", ".join(f"{d:%b %-d, %Y}" for d in days[:3])
    start = meeting.start.astimezone(zone)
    return (
        f"This report is from another meeting: its joins are on {shown}, and this meeting is on "
        f"{start:%b %-d, %Y at %-I:%M %p}. Upload this meeting's report (nothing was changed)."
    )
