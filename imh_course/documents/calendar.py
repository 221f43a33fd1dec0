"""iCalendar (RFC 5545) export of an offering's meetings, written by hand.

A generated ``VTIMEZONE`` would need the tz database's transition rules, so times are written in
UTC (``DTSTART:20250304T230000Z``), which RFC 5545 allows and every calendar app converts to
local time; ``X-WR-TIMEZONE`` tells apps that honour it which zone the course runs in. Text is
escaped (``\\\\ ; , newline``), lines are folded at 75 octets without splitting a UTF-8
character, and lines end with CRLF, as the RFC requires.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PRODID = "-//imh-course//Infant Mental Health course calendar//EN"
MAX_OCTETS = 75
CRLF = "\r\n"

# RFC 5545 TEXT may not contain control characters other than HTAB (newlines are escaped).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_URL_FORBIDDEN = re.compile(r"[\x00-\x20\x7f]")


@dataclass(frozen=True)
class CalendarEvent:
    """One meeting as it appears in a learner's calendar; ``start``/``end`` are timezone-aware."""

    uid: str
    start: datetime
    end: datetime
    summary: str
    location: str | None = None
    url: str | None = None
    description: str | None = None

    def __post_init__(self) -> None:
        # Naive datetimes would be guessed differently by each app; refuse them rather than guess.
        if not self.uid.strip():
            raise ValueError("uid must not be blank")
        for name in ("start", "end"):
            value = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"{name} must be timezone-aware, got {value!r}")
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if self.url is not None and (not self.url or _URL_FORBIDDEN.search(self.url)):
            raise ValueError("url must be a non-empty URI without spaces or control characters")


def escape_text(value: str) -> str:
    """Escape an RFC 5545 TEXT value: backslash, semicolon, comma and newlines (CRLF/CR/LF)."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROL.sub("", value)
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold_line(line: str) -> str:
    """Fold a content line into chunks of at most 75 octets, never inside a UTF-8 character.

    Continuation lines start with one space, which counts towards their 75 octets.
    """
    if len(line.encode("utf-8")) <= MAX_OCTETS:
        return line
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        octets = len(char.encode("utf-8"))
        if size + octets > MAX_OCTETS:
            chunks.append("".join(current))
            current, size = [" "], 1
        current.append(char)
        size += octets
    chunks.append("".join(current))
    return CRLF.join(chunks)


def format_utc(moment: datetime) -> str:
    """``YYYYMMDDTHHMMSSZ`` in UTC (seconds kept, microseconds dropped)."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def offering_ics(
    events: Sequence[CalendarEvent],
    *,
    calendar_name: str,
    tz_name: str,
    generated_at: datetime | None = None,
) -> str:
    """Return a complete VCALENDAR (CRLF line endings) with one VEVENT per event, in order.

    ``tz_name`` must be an IANA zone (validated with ``zoneinfo``); ``generated_at`` (default:
    now) becomes every event's ``DTSTAMP`` and can be pinned for reproducible output. Duplicate
    UIDs are refused because calendar apps would silently merge those events.
    """
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz_name!r}") from exc
    stamp = generated_at or datetime.now(UTC)
    if stamp.tzinfo is None or stamp.utcoffset() is None:
        raise ValueError("generated_at must be timezone-aware")
    uids = [event.uid for event in events]
    if len(set(uids)) != len(uids):
        raise ValueError("event UIDs must be unique")

    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(calendar_name)}",
        f"X-WR-TIMEZONE:{escape_text(tz_name)}",
    ]
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{escape_text(event.uid)}",
            f"DTSTAMP:{format_utc(stamp)}",
            f"DTSTART:{format_utc(event.start)}",
            f"DTEND:{format_utc(event.end)}",
            f"SUMMARY:{escape_text(event.summary)}",
        ]
        if event.location:
            lines.append(f"LOCATION:{escape_text(event.location)}")
        if event.url:
            lines.append(f"URL:{event.url}")
        if event.description:
            lines.append(f"DESCRIPTION:{escape_text(event.description)}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(fold_line(line) + CRLF for line in lines)
