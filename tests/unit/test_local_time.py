"""local_time: a date carries no zone; a time carries it once (issue 13, defect 6)."""

from datetime import UTC, datetime

from imh_course.templating import local_time


def test_date_only_has_no_zone() -> None:
    noon = datetime(2026, 8, 4, 16, 0, tzinfo=UTC)
    assert local_time(noon, "America/New_York", "%b %-d, %Y") == "Aug 4, 2026"


def test_time_shows_zone_once() -> None:
    out = local_time(datetime(2026, 8, 4, 16, 0, tzinfo=UTC), "America/New_York")
    assert out == "Tue Aug 4, 2026 · 12:00 PM EDT"
    assert out.count("EDT") == 1


def test_a_time_range_shows_the_zone_once() -> None:
    """A meeting reads "12:00–1:30 PM EDT", not "12:00 PM EDT to 1:30 PM EDT"."""
    from flask import Flask

    from imh_course.templating import local_time_range

    start, end = datetime(2026, 8, 4, 16, 0, tzinfo=UTC), datetime(2026, 8, 4, 17, 30, tzinfo=UTC)
    with Flask(__name__).app_context():
        assert local_time_range(start, end, "America/New_York") == "Tue Aug 4, 2026 · 12:00–1:30 PM EDT"
        assert local_time_range(start, end, "America/New_York", False) == "12:00–1:30 PM EDT"
        morning = datetime(2026, 8, 4, 15, 30, tzinfo=UTC)
        assert local_time_range(morning, end, "America/New_York", False) == "11:30 AM–1:30 PM EDT"
