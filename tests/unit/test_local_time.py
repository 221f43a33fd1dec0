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
