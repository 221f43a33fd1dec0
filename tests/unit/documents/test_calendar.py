"""iCalendar export: structure, UTC times, TEXT escaping, UTF-8-safe folding, CRLF."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imh_course.documents.calendar import CalendarEvent, escape_text, fold_line, offering_ics

T0 = datetime(2025, 3, 4, 23, 0, tzinfo=UTC)
STAMP = datetime(2025, 2, 1, 12, 0, 5, tzinfo=UTC)
TITLES = [
    "Foundations", "Ghosts and Angels in the Nursery", "Attachment", "Reflective supervision",
    "Assessment", "Trauma", "Culture, caregiving; and community", "Parent–infant psychotherapy",
    "Child welfare", "Regulation", "Integration",
]  # fmt: skip


def events(count: int = 11) -> list[CalendarEvent]:
    return [
        CalendarEvent(
            uid=f"meeting-{i + 1}@imh.example.org",
            start=T0 + timedelta(days=7 * i),
            end=T0 + timedelta(days=7 * i, minutes=90),
            summary=f"Infant Mental Health: Theory to Practice — Session {i + 1}: {TITLES[i]}",
            location="Riverside Family Institute, Room 2; 14 Elm St., Albany, NY",
            url=f"https://imh.example.org/offerings/7/meetings/{i + 1}",
            description="Bring your reflection journal.\nSign in at the door, please; thank you.",
        )
        for i in range(count)
    ]


def ics(evts=None, **kwargs) -> str:
    kwargs.setdefault("calendar_name", "IMH Spring 2025, cohort A")
    kwargs.setdefault("tz_name", "America/New_York")
    kwargs.setdefault("generated_at", STAMP)
    return offering_ics(events() if evts is None else evts, **kwargs)


def unescape(value: str) -> str:
    out, chars = [], iter(value)
    for char in chars:
        if char == "\\":
            nxt = next(chars)
            out.append("\n" if nxt in "nN" else nxt)
        else:
            out.append(char)
    return "".join(out)


def parse(text: str) -> list[dict[str, str]]:
    """Tiny RFC 5545 reader: unfold, split name:value, group into components (calendar first)."""
    assert text.endswith("\r\n")
    lines = text.replace("\r\n ", "").split("\r\n")[:-1]
    components: list[dict[str, str]] = []
    stack: list[dict[str, str]] = []
    for line in lines:
        name, _, value = line.partition(":")
        if name == "BEGIN":
            stack.append({"_type": value})
        elif name == "END":
            component = stack.pop()
            assert component["_type"] == value
            components.append(component)
        else:
            stack[-1][name] = value
    assert not stack
    return [components[-1], *components[:-1]]


def test_calendar_has_required_properties():
    """VCALENDAR carries VERSION 2.0, PRODID, CALSCALE, METHOD, calendar name and time zone."""
    calendar = parse(ics())[0]
    assert calendar["_type"] == "VCALENDAR"
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"].startswith("-//imh-course//")
    assert calendar["CALSCALE"] == "GREGORIAN"
    assert calendar["METHOD"] == "PUBLISH"
    assert unescape(calendar["X-WR-CALNAME"]) == "IMH Spring 2025, cohort A"
    assert calendar["X-WR-TIMEZONE"] == "America/New_York"


def test_eleven_events_round_trip():
    """All 11 meetings come back in order with their UID, UTC times, text, location and URL."""
    source = events()
    parsed = parse(ics(source))[1:]
    assert [c["_type"] for c in parsed] == ["VEVENT"] * 11
    for event, component in zip(source, parsed, strict=True):
        assert unescape(component["UID"]) == event.uid
        assert datetime.strptime(component["DTSTART"], "%Y%m%dT%H%M%S%z") == event.start
        assert datetime.strptime(component["DTEND"], "%Y%m%dT%H%M%S%z") == event.end
        assert component["DTSTAMP"] == "20250201T120005Z"
        assert unescape(component["SUMMARY"]) == event.summary
        assert unescape(component["LOCATION"]) == event.location
        assert unescape(component["DESCRIPTION"]) == event.description
        assert component["URL"] == event.url


def test_times_are_written_in_utc_with_z():
    """A New York start time is converted and written as UTC with the Z suffix."""
    local = datetime(2025, 3, 4, 18, 0, tzinfo=ZoneInfo("America/New_York"))
    event = CalendarEvent("u1", local, local + timedelta(minutes=90), "Session")
    component = parse(ics([event]))[1]
    assert component["DTSTART"] == "20250304T230000Z"
    assert component["DTEND"] == "20250305T003000Z"


def test_commas_semicolons_backslashes_and_newlines_are_escaped():
    """TEXT escaping: \\ ; , and newlines (LF, CRLF, CR) become \\\\ \\; \\, \\n."""
    assert escape_text("a,b;c\\d\ne\r\nf\rg") == "a\\,b\\;c\\\\d\\ne\\nf\\ng"
    raw = ics([CalendarEvent("u1", T0, T0 + timedelta(hours=1), "Okafor, Amara; session\\1")])
    assert "SUMMARY:Okafor\\, Amara\\; session\\\\1\r\n" in raw


def test_control_characters_are_dropped_from_text():
    """Control characters other than TAB cannot appear in RFC 5545 TEXT, so they are removed."""
    assert escape_text("a\x00b\x1bc\td") == "abc\td"


def test_only_crlf_line_endings():
    """Every line ends with CRLF; there is no bare LF or CR."""
    raw = ics()
    assert "\n" not in raw.replace("\r\n", "")
    assert "\r" not in raw.replace("\r\n", "")


def test_lines_are_folded_at_75_octets_without_splitting_utf8():
    """Every physical line is ≤ 75 octets and decodes on its own as UTF-8."""
    summary = "Séance « l’attachement » — 愛着と乳幼児 — Привязанность — " * 6
    raw = ics([CalendarEvent("u1", T0, T0 + timedelta(hours=1), summary, description="ü" * 200)])
    for physical in raw.encode("utf-8").split(b"\r\n")[:-1]:
        assert len(physical) <= 75
        physical.decode("utf-8")  # raises if a multibyte character was split
    assert unescape(parse(raw)[1]["SUMMARY"]) == summary


@given(st.text(min_size=0, max_size=400).filter(lambda s: "\r" not in s and "\n" not in s))
def test_folding_round_trips_any_text(line):
    """Unfolding a folded line gives the original back; no physical line exceeds 75 octets."""
    folded = fold_line(line)
    assert folded.replace("\r\n ", "") == line
    for physical in folded.split("\r\n"):
        assert len(physical.encode("utf-8")) <= 75


def test_short_line_is_not_folded():
    """A line of exactly 75 octets stays on one line; 76 octets fold."""
    assert fold_line("x" * 75) == "x" * 75
    assert fold_line("x" * 76) == "x" * 75 + "\r\n x"


def test_optional_properties_are_omitted_when_missing():
    """An event without location, URL or description has no such lines."""
    raw = ics([CalendarEvent("u1", T0, T0 + timedelta(hours=1), "Session")])
    assert "LOCATION" not in raw and "URL" not in raw and "DESCRIPTION" not in raw


def test_naive_datetimes_are_refused():
    """A naive start would be read differently by each calendar app, so it is an error."""
    with pytest.raises(ValueError, match="timezone-aware"):
        CalendarEvent("u1", datetime(2025, 3, 4, 18), T0, "x")


def test_end_must_follow_start():
    """An event that ends when or before it starts is an error."""
    with pytest.raises(ValueError, match="after start"):
        CalendarEvent("u1", T0, T0, "x")


def test_url_with_spaces_or_newlines_is_refused():
    """A URL value is not escaped, so one containing whitespace could inject properties."""
    with pytest.raises(ValueError, match="url"):
        CalendarEvent("u1", T0, T0 + timedelta(hours=1), "x", url="https://x\r\nATTENDEE:evil")


def test_unknown_time_zone_is_refused():
    """X-WR-TIMEZONE must name a real IANA zone."""
    with pytest.raises(ValueError, match="time zone"):
        ics(tz_name="America/Nowhere")


def test_duplicate_uids_are_refused():
    """Calendar apps merge events sharing a UID, so duplicates are an error."""
    event = events(1)[0]
    with pytest.raises(ValueError, match="unique"):
        ics([event, event])


def test_dtstamp_defaults_to_now_in_utc():
    """Without generated_at the DTSTAMP is the current UTC time."""
    before = datetime.now(UTC).replace(microsecond=0)
    stamp = parse(offering_ics(events(1), calendar_name="c", tz_name="UTC"))[1]["DTSTAMP"]
    assert before <= datetime.strptime(stamp, "%Y%m%dT%H%M%S%z") <= datetime.now(UTC)


def test_empty_offering_is_a_valid_calendar():
    """No meetings still yields a well-formed VCALENDAR."""
    assert [c["_type"] for c in parse(ics([]))] == ["VCALENDAR"]
