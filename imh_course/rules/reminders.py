"""When a meeting reminder or a "no sign-out recorded" mail is due (plain functions, no database).

A **reminder** goes out the day before a meeting: once the site's local calendar day (IMH_TIMEZONE)
is the day before the meeting's local start day, and the meeting has not started. A command run
at any time that day (or every few minutes) finds the same meetings, and the outbox's dedupe key
makes the second finding queue nothing.

A **no sign-out** notice goes out after a meeting has ended, to a learner whose record has a
sign-in but no sign-out (which credits nothing until a coordinator records the departure), for
meetings that ended within :data:`SIGN_OUT_LOOKBACK`, so turning the feature on does not mail a
whole term's history.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

SIGN_OUT_LOOKBACK = timedelta(days=7)


def _require_aware(**moments: datetime) -> None:
    for name, value in moments.items():
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware")


def reminder_day(start: datetime, tz_name: str) -> date:
    """The local day on which a meeting starting at ``start`` is reminded (the day before it)."""
    _require_aware(start=start)
    return start.astimezone(ZoneInfo(tz_name)).date() - timedelta(days=1)


def reminder_window(now: datetime, tz_name: str) -> tuple[datetime, datetime]:
    """The UTC-comparable [from, until) of meeting starts to remind about at ``now``.

    From ``now`` (a meeting already under way gets no reminder) until the end of tomorrow in the
    site's zone, starting no earlier than tomorrow's local midnight.
    """
    _require_aware(now=now)
    zone = ZoneInfo(tz_name)
    today = now.astimezone(zone).date()
    tomorrow = datetime.combine(today + timedelta(days=1), datetime.min.time(), zone)
    after = datetime.combine(today + timedelta(days=2), datetime.min.time(), zone)
    return max(now, tomorrow), after


def reminder_due(start: datetime, now: datetime, tz_name: str) -> bool:
    """True when a meeting starting at ``start`` should be reminded about at ``now``."""
    _require_aware(start=start)
    low, high = reminder_window(now, tz_name)
    return low <= start < high


def sign_out_missing(
    end: datetime,
    arrived: datetime | None,
    departed: datetime | None,
    now: datetime,
    *,
    attended: bool,
    lookback: timedelta = SIGN_OUT_LOOKBACK,
) -> bool:
    """True when a learner marked as attending signed in, never signed out, and the meeting ended
    within ``lookback`` of ``now`` (``attended``: present, late or left early; the roster's flag)."""
    _require_aware(end=end, now=now)
    return attended and arrived is not None and departed is None and now - lookback <= end <= now


def reminder_key(meeting_id: int, user_id: int) -> str:
    """The outbox dedupe key that makes a reminder exist at most once per learner and meeting."""
    return f"meeting_reminder:{meeting_id}:{user_id}"


def sign_out_key(meeting_id: int, user_id: int) -> str:
    """The outbox dedupe key of the "no sign-out recorded" notice."""
    return f"no_sign_out:{meeting_id}:{user_id}"
