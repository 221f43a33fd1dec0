"""Reading a video platform's participant report: Zoom's participants CSV and Microsoft Teams'
attendance report (a summary block, then tables; UTF-16 tab-separated in older exports, CSV in
newer ones). Pure: bytes and the offering's time zone in, rows out; no database.

The family is recognised by the header names, never by the file name, and the columns found are
reported so a coordinator can see what was read. Times in these reports are wall-clock times of
the account's zone without an offset; they are read in the offering's zone. A wall time that
occurs twice (the hour repeated when daylight saving time ends) is resolved with the row's own
duration where the report gives one. Anything the parser cannot read raises ``ReportError``
naming the reason (and the line), so a bad file changes nothing.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from .text import control_character_in

MAX_BYTES = 1_000_000
MAX_ROWS = 5_000

#: what each column means -> header names seen in the platforms' exports (compared case-insensitively)
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "name": ("name (original name)", "name", "full name", "participant name"),
    "email": ("user email", "email", "email address"),
    "join": ("join time", "first join", "join"),
    "leave": ("leave time", "last leave", "leave"),
    "duration": ("duration (minutes)", "duration", "in-meeting duration", "attendance duration"),
    "guest": ("guest",),
    "role": ("role",),
}
COLUMN_LABELS = {
    "name": "name",
    "email": "email",
    "join": "join time",
    "leave": "leave time",
    "duration": "duration",
    "guest": "guest",
    "role": "role",
}
_ZOOM_MARKS = {"name (original name)", "user email", "guest", "duration (minutes)"}
_TEAMS_MARKS = {"first join", "last leave", "in-meeting duration", "role", "full name"}
_TIME_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%y %I:%M:%S %p",
    "%m/%d/%y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%y %H:%M:%S",
    "%m/%d/%y %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %I:%M:%S %p",
    "%Y-%m-%d %I:%M %p",
)
_DURATION_HMS = re.compile(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*(?:(\d+)\s*s)?\s*$", re.I)
_DURATION_CLOCK = re.compile(r"^\s*(\d+):(\d{2})(?::(\d{2}))?\s*$")


class ReportError(ValueError):
    """The file cannot be read as a participant report; the message says why (nothing changes)."""


@dataclass(frozen=True)
class ReportRow:
    """One join of one participant, as the file states it (times UTC; ``leave`` None if missing)."""

    line: int
    name: str
    email: str | None
    join: datetime
    leave: datetime | None
    guest: bool = False
    role: str | None = None


@dataclass
class ParsedReport:
    platform: str
    #: meaning -> the header as written in the file, for the columns found
    columns: dict[str, str]
    rows: list[ReportRow]
    warnings: list[str] = field(default_factory=list)

    @property
    def columns_text(self) -> str:
        """“name ← “Name (original name)”, …”: which header was read as what."""
        return ", ".join(f"{COLUMN_LABELS[k]}: “{v}”" for k, v in self.columns.items())


def _key(header: str) -> str:
    return " ".join(header.replace("\ufeff", "").strip().lower().split())


def decode(raw: bytes) -> str:
    """The file's text: UTF-16 (Teams' older exports, with or without a byte-order mark) or UTF-8."""
    if len(raw) > MAX_BYTES:
        raise ReportError(f"The file is larger than {MAX_BYTES // 1_000_000} MB.")
    if not raw.strip():
        raise ReportError("The file is empty.")
    try:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            return raw.decode("utf-16")
        head = raw[:200]
        if head.count(b"\x00") > len(head) // 4:  # UTF-16 without a byte-order mark
            return raw.decode("utf-16-le" if head[1:2] == b"\x00" else "utf-16-be")
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReportError(
            "The file is not a text export (not UTF-8 or UTF-16). Download the participant report "
            "again as CSV from Zoom or Teams and upload it unchanged."
        ) from exc


def _rows(text: str) -> list[list[str]]:
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    tabs = sum(1 for line in lines if "\t" in line)
    delimiter = "\t" if lines and tabs * 2 >= len(lines) else ","
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise ReportError(f"The file is not a readable CSV/TSV table ({exc}).") from exc


def _header_columns(cells: list[str]) -> dict[str, int] | None:
    keys = [_key(c) for c in cells]
    found: dict[str, int] = {}
    for meaning, names in COLUMN_NAMES.items():
        for name in names:
            if name in keys:
                found[meaning] = keys.index(name)
                break
    return found if "name" in found and "join" in found else None


def _tables(rows: list[list[str]]) -> list[tuple[int, dict[str, int], list[tuple[int, list[str]]]]]:
    """Every (header line, columns, body) table of the file; a blank line or a section title ends one."""
    tables = []
    i = 0
    while i < len(rows):
        columns = _header_columns(rows[i])
        if columns is None:
            i += 1
            continue
        header_line, body = i + 1, []
        i += 1
        while i < len(rows):
            cells = rows[i]
            filled = [c for c in cells if c.strip()]
            if not filled or (len(filled) == 1 and len(cells) <= 2 and len(rows[i - 1]) > 2):
                break
            if _header_columns(cells) is not None:
                break
            body.append((i + 1, cells))
            i += 1
        tables.append((header_line, columns, body))
    return tables


def _choose(tables: list, header_rows: list[list[str]]) -> tuple:
    """The table with one row per join (Zoom's, Teams' "In-Meeting Activities") before Teams'
    "Participants" table, which only has each person's first join and last leave."""

    def per_join(table: tuple) -> bool:
        line, columns, _body = table
        return _key(header_rows[line - 1][columns["join"]]) != "first join"

    for table in tables:
        if per_join(table):
            return table
    return tables[0]


def parse_time(value: str, zone: ZoneInfo) -> list[datetime]:
    """A report's time as UTC: one candidate, or two for a wall time repeated at a DST change."""
    text = value.strip().replace(",", " ")
    text = " ".join(text.split())
    if not text:
        return []
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
        for fmt in _TIME_FORMATS:
            try:
                moment = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if moment is None:
            raise ValueError(value) from None
    if moment.tzinfo is not None:
        return [moment.astimezone(UTC)]
    first = moment.replace(tzinfo=zone).astimezone(UTC)
    second = moment.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return [first] if first == second else [first, second]


def parse_duration(value: str) -> timedelta | None:
    """Zoom's whole minutes ("45"), Teams' "1h 28m 3s" or "1:28:03"; None when empty."""
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return timedelta(minutes=int(text))
    clock = _DURATION_CLOCK.match(text)
    if clock:
        h, m, s = clock.groups()
        return timedelta(hours=int(h), minutes=int(m), seconds=int(s or 0))
    hms = _DURATION_HMS.match(text)
    if hms and any(hms.groups()):
        h, m, s = (int(g or 0) for g in hms.groups())
        return timedelta(hours=h, minutes=m, seconds=s)
    raise ValueError(value)


def _resolve(
    joins: list[datetime], leaves: list[datetime], duration: timedelta | None
) -> tuple[datetime, datetime | None]:
    """Pick the join/leave pair (DST fold) that agrees best with the stated duration."""
    if not leaves:
        join = joins[0]
        return join, (join + duration if duration is not None else None)
    pairs = [(j, lv) for j in joins for lv in leaves if lv >= j] or [(joins[0], leaves[-1])]
    if duration is None:
        return pairs[0]
    return min(pairs, key=lambda p: abs((p[1] - p[0]) - duration))


def parse_report(raw: bytes, timezone: str) -> ParsedReport:
    """The rows of a Zoom or Teams participant report, times in UTC; ReportError if unreadable."""
    zone = ZoneInfo(timezone)
    text = decode(raw)
    if control_character_in(text, multiline=True):
        raise ReportError("The file contains control characters (for example NUL bytes): it is not a report.")
    rows = _rows(text)
    tables = _tables(rows)
    if not tables and any("user action" in {_key(c) for c in row} for row in rows[:30]):
        raise ReportError(
            "This is Teams' oldest attendance list (one “Joined”/“Left” event per line), which is "
            "not read here. Download the meeting's attendance report from its Attendance tab instead."
        )
    if not tables:
        raise ReportError(
            "No participants table found: a header naming a participant's name and join time "
            "(Zoom: “Name (original name)”, “Join time”; Teams: “Name”, “Join Time” or “First Join”) "
            "is missing. Is this the meeting's participant / attendance report?"
        )
    line, columns, body = _choose(tables, rows)
    header = rows[line - 1]
    found = {meaning: header[index].strip() for meaning, index in columns.items()}
    keys = {_key(v) for v in found.values()}
    platform = (
        "Zoom" if keys & _ZOOM_MARKS else "Microsoft Teams" if keys & _TEAMS_MARKS else "Participant report"
    )
    if "leave" not in columns and "duration" not in columns:
        raise ReportError(
            f"The participants table (line {line}) has no leave time or duration column, so no "
            "attended minutes can be read from it."
        )
    if len(body) > MAX_ROWS:
        raise ReportError(f"The table has more than {MAX_ROWS} rows.")
    report = ParsedReport(platform=platform, columns=found, rows=[])
    problems: list[str] = []

    def cell(cells: list[str], meaning: str) -> str:
        index = columns.get(meaning)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    for number, cells in body:
        name, join_text = cell(cells, "name"), cell(cells, "join")
        if not name and not join_text:
            continue
        try:
            joins = parse_time(join_text, zone)
            if not joins:
                raise ValueError(join_text)
        except ValueError:
            problems.append(f"line {number}: the join time “{join_text}” is not a date and time")
            continue
        try:
            leaves = parse_time(cell(cells, "leave"), zone)
            duration = parse_duration(cell(cells, "duration"))
        except ValueError as exc:
            problems.append(f"line {number}: “{exc}” is not a time or a duration")
            continue
        if not name:
            problems.append(f"line {number}: no name")
            continue
        join, leave = _resolve(joins, leaves, duration)
        if leave is not None and leave < join:
            problems.append(f"line {number}: the leave time is before the join time")
            continue
        email = cell(cells, "email") or None
        report.rows.append(
            ReportRow(
                line=number,
                name=name[:200],
                email=email.lower()[:254] if email and "@" in email else None,
                join=join,
                leave=leave,
                guest=cell(cells, "guest").lower() in ("yes", "true", "1"),
                role=cell(cells, "role") or None,
            )
        )
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise ReportError(f"Some rows cannot be read: {shown}.")
    if not report.rows:
        raise ReportError(f"The participants table (line {line}) has no rows.")
    if _key(header[columns["join"]]) == "first join":
        report.warnings.append(
            "This report lists only each person's first join and last leave, not each join: time "
            "away in between cannot be seen. Export the report with its in-meeting activities if "
            "someone left and came back."
        )
    return report
