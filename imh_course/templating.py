"""Template helpers: the access predicates (so buttons match routes) and date formatting."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app

from .content.schema import COMPETENCY_DOMAINS
from .markup import nest_headings
from .rules.licenses import license_label
from .rules.refusals import staff_reasons
from .rules.text import plural, titled
from .security import access
from .security.roles import Permission


def local_time(
    value: datetime | None, tz_name: str | None = None, fmt: str = "%a %b %-d, %Y · %-I:%M %p"
) -> str:
    """A UTC datetime in the offering's (or the site's) zone; its abbreviation only when a time is shown.

    A date is a date: "Aug 4, 2026", not "Aug 4, 2026 EDT" (issue 13).
    """
    if value is None:
        return ""
    zone = ZoneInfo(tz_name or current_app.config["IMH_TIMEZONE"])
    local = value.astimezone(zone)
    shows_time = any(code in fmt for code in ("%H", "%I", "%-I", "%M", "%-H", "%p"))
    return f"{local.strftime(fmt)} {local.tzname()}" if shows_time else local.strftime(fmt)


def iso_local(value: str | None, tz_name: str | None = None) -> str:
    """An audited UTC ISO time ("2026-12-01T17:05:00+00:00") as a local clock time ("12:05 PM")."""
    if not value:
        return ""
    zone = ZoneInfo(tz_name or current_app.config["IMH_TIMEZONE"])
    return datetime.fromisoformat(value).astimezone(zone).strftime("%-I:%M %p")


def local_time_range(
    start: datetime | None, end: datetime | None, tz_name: str | None = None, with_date: bool = True
) -> str:
    """A meeting's times with the zone once: "Tue Aug 4, 2026 · 12:00–1:30 PM EDT".

    The AM/PM marker is shared when both ends have it; an end on another day, or in another zone
    abbreviation (a DST change mid-meeting), is written in full.
    """
    if start is None or end is None:
        return local_time(start or end, tz_name)
    zone = ZoneInfo(tz_name or current_app.config["IMH_TIMEZONE"])
    begin, finish = start.astimezone(zone), end.astimezone(zone)
    day = begin.strftime("%a %b %-d, %Y · ") if with_date else ""
    if begin.date() != finish.date() or begin.tzname() != finish.tzname():
        return f"{day}{begin.strftime('%-I:%M %p')} {begin.tzname()} – {local_time(end, tz_name)}"
    first = (
        begin.strftime("%-I:%M")
        if begin.strftime("%p") == finish.strftime("%p")
        else begin.strftime("%-I:%M %p")
    )
    return f"{day}{first}–{finish.strftime('%-I:%M %p')} {finish.tzname()}"


def register(app: Flask) -> None:
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(local_time_range, "local_time_range")
    app.add_template_filter(iso_local, "iso_local")
    # html|nest_headings(3): authored headings placed under a section titled at <h3>
    app.add_template_filter(nest_headings, "nest_headings")
    # n|plural("reading") -> "1 reading" / "2 readings"; title|titled("attempt 2") (rules.text)
    app.add_template_filter(plural, "plural")
    app.add_template_filter(license_label, "license_label")
    app.add_template_filter(titled, "titled")
    # reasons|staff_reasons(name): a refusal as the coordinator reads it (rules.refusals)
    app.add_template_filter(lambda reasons, name: staff_reasons(name, reasons), "staff_reasons")

    @app.context_processor
    def _helpers() -> dict[str, object]:
        return {
            "Permission": Permission,
            "competency_domains": COMPETENCY_DOMAINS,
            "can_study": access.can_study,
            "can_take_attendance": access.can_take_attendance,
            "can_author": access.can_author,
            "teaches": access.teaches,
            "can_manage_offering": access.can_manage_offering,
            "can_see_staff_view": access.can_see_staff_view,
        }
