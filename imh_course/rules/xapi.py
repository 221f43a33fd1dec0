"""What an LRS's answer means for a queued statement, and when to try again.

Plain functions, so the policy is tested without an LRS. A statement is never dropped for a
failure of the LRS: an outage, a timeout, a 5xx, a 429 or a refused key (401/403: the settings are
wrong, not the statement) waits with back-off and is tried again, indefinitely. Only an answer
about the statement itself ends its attempts: 400 (the LRS rejects it as malformed) or 409 (the
LRS holds a *different* statement under this id) mark it failed, with the reason, for a person to
look at. 204 and 200 are success; so is a repeat of the same statement, which an LRS answers 204.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from .outbox import BACKOFF


class Outcome(StrEnum):
    STORED = "stored"
    RETRY = "retry"
    REFUSED = "refused"


def outcome_of(status: int | None) -> Outcome:
    """``status``: the HTTP status of a PUT /statements, or None when no answer came."""
    if status is not None and 200 <= status < 300:
        return Outcome.STORED
    if status in (400, 409):
        return Outcome.REFUSED
    return Outcome.RETRY


def retry_delay(attempts: int) -> timedelta:
    """Wait after ``attempts`` failed attempts: the outbox's back-off, its last step repeating forever."""
    if attempts < 1:
        return timedelta(0)
    return BACKOFF[min(attempts, len(BACKOFF)) - 1]
