"""Rotating short check-in codes (pure: no Flask, no SQLAlchemy).

The code shown in the room is derived like a TOTP (RFC 6238 / RFC 4226 dynamic truncation, with
HMAC-SHA256): the check-in window's secret and the number of the current period give a 6-digit
code, so every worker computes the same code without storing it, and a new secret on every
opening makes codes from an earlier opening worthless. ``accepts`` takes the current and the
previous period(s), so a code read just before it rotates still works for one more period.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from datetime import datetime

DEFAULT_PERIOD_SECONDS = 120
DEFAULT_DIGITS = 6


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"at must be a timezone-aware datetime, got naive {at!r}")


def period_number(at: datetime, period_seconds: int = DEFAULT_PERIOD_SECONDS) -> int:
    """The number of the period containing ``at`` (periods are counted from the Unix epoch)."""
    _require_aware(at)
    if period_seconds < 1:
        raise ValueError("period_seconds must be positive")
    return int(at.timestamp()) // period_seconds


def seconds_left(at: datetime, period_seconds: int = DEFAULT_PERIOD_SECONDS) -> int:
    """Seconds until the code shown at ``at`` is replaced by the next one (1..period_seconds)."""
    _require_aware(at)
    return period_seconds - int(at.timestamp()) % period_seconds


def _code_for_counter(secret: str, counter: int, digits: int) -> str:
    digest = hmac.new(secret.encode("utf-8"), struct.pack(">Q", counter), hashlib.sha256).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def code_for(
    secret: str, at: datetime, period_seconds: int = DEFAULT_PERIOD_SECONDS, digits: int = DEFAULT_DIGITS
) -> str:
    """The code for the period containing ``at``: ``digits`` decimal digits, leading zeros kept."""
    if not secret:
        raise ValueError("secret must not be empty")
    if not 4 <= digits <= 9:
        raise ValueError("digits must be between 4 and 9")
    return _code_for_counter(secret, period_number(at, period_seconds), digits)


def normalise(code: str | None) -> str:
    """What a person typed, without spaces or dashes ("123 456" and "123-456" are "123456")."""
    if code is None:
        return ""
    return "".join(ch for ch in code if ch not in " -\t").strip()


def accepts(
    secret: str,
    code: str | None,
    at: datetime,
    period_seconds: int = DEFAULT_PERIOD_SECONDS,
    window: int = 1,
    digits: int = DEFAULT_DIGITS,
) -> bool:
    """True if ``code`` is the code of the current period or of one of the ``window`` before it.

    Every candidate is compared in constant time, so timing does not reveal how close a guess was.
    Anything that is not exactly ``digits`` ASCII digits is refused without comparing.
    """
    if window < 0:
        raise ValueError("window must be >= 0")
    typed = normalise(code)
    current = period_number(at, period_seconds)  # also rejects a naive ``at``
    if len(typed) != digits or not (typed.isascii() and typed.isdigit()) or not secret:
        return False
    matched = False
    for counter in range(current - window, current + 1):
        expected = _code_for_counter(secret, counter, digits)
        matched |= hmac.compare_digest(expected.encode("ascii"), typed.encode("ascii"))
    return matched
