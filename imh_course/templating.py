"""Template helpers: the access predicates (so buttons match routes) and date formatting."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app

from . import access
from .content.schema import COMPETENCY_DOMAINS
from .roles import Permission


def local_time(
    value: datetime | None, tz_name: str | None = None, fmt: str = "%a %b %-d, %Y · %-I:%M %p"
) -> str:
    """A UTC datetime shown in the offering's (or the site's) time zone, with the zone's abbreviation."""
    if value is None:
        return ""
    zone = ZoneInfo(tz_name or current_app.config["IMH_TIMEZONE"])
    local = value.astimezone(zone)
    return f"{local.strftime(fmt)} {local.tzname()}"


def register(app: Flask) -> None:
    app.add_template_filter(local_time, "local_time")

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
