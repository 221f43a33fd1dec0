"""Template helpers: the access predicates (so buttons match routes) and date formatting."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app

from . import access
from .content.schema import COMPETENCY_DOMAINS
from .roles import Permission
from .rules.refusals import staff_reasons


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


def register(app: Flask) -> None:
    app.add_template_filter(local_time, "local_time")
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
