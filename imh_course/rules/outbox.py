"""When a message that could not be delivered is tried again, and when the outbox gives up.

Plain functions, so the schedule is tested without a mail server: a temporary failure (server
down, 4xx reply) waits longer after each attempt; a permanent one (5xx reply: no such mailbox,
refused sender) or the last allowed attempt marks the message failed, with the reason, for a
person to look at and retry from the outbox page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

#: Waits after the 1st, 2nd, … failed attempt; the last value repeats.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
)
DEFAULT_MAX_ATTEMPTS = 8
#: A message claimed longer ago than this by a worker that never reported back (it crashed or was
#: killed mid-send) is claimed again.
CLAIM_LEASE = timedelta(minutes=10)


def backoff_delay(attempts: int) -> timedelta:
    """How long to wait after ``attempts`` failed attempts (1 = the first failure)."""
    if attempts < 1:
        return timedelta(0)
    return BACKOFF[min(attempts, len(BACKOFF)) - 1]


@dataclass(frozen=True)
class AfterFailure:
    """What to do with a message whose delivery attempt just failed."""

    give_up: bool
    #: the wait before the next attempt (zero when giving up)
    delay: timedelta


def after_failure(
    attempts: int, *, permanent: bool, max_attempts: int = DEFAULT_MAX_ATTEMPTS
) -> AfterFailure:
    """Retry later with back-off, or give up (permanent error, or ``attempts`` reached the limit)."""
    if permanent or attempts >= max_attempts:
        return AfterFailure(give_up=True, delay=timedelta(0))
    return AfterFailure(give_up=False, delay=backoff_delay(attempts))


def is_permanent_smtp_code(code: int | None) -> bool:
    """SMTP 5xx replies are permanent (RFC 5321 §4.2.1); 4xx and no reply at all are temporary."""
    return code is not None and 500 <= code <= 599
