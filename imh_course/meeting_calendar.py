"""One meeting as a calendar event, shared by the learner's .ics download and the reminder mail.

Both use the same UID (``imh-meeting-<id>@<host>``), so a calendar app that imported the
offering's calendar recognises the reminder's attachment as the same event, not a second one.
"""

from __future__ import annotations

from collections.abc import Sequence

from .documents.calendar import CalendarEvent, offering_ics
from .models.offerings import FORMAT_LABELS, Meeting, Offering


def meeting_event(offering: Offering, meeting: Meeting, host: str) -> CalendarEvent:
    """The calendar entry of ``meeting`` (UTC times; location or meeting link)."""
    return CalendarEvent(
        uid=f"imh-meeting-{meeting.id}@{host}",
        start=meeting.start_dt,
        end=meeting.end_dt,
        summary=f"{offering.course.title} — Session {meeting.session.number}: {meeting.session.title}",
        location=offering.location or offering.meeting_url,
        url=offering.meeting_url,
        description=f"{FORMAT_LABELS[offering.format]} session, {meeting.length_minutes} minutes. "
        "Only face-to-face time counts toward CE, for licenses this offering's board approvals cover.",
    )


def meetings_ics(offering: Offering, meetings: Sequence[Meeting], host: str) -> str:
    """A VCALENDAR of ``meetings``, named after the offering, in the offering's zone."""
    return offering_ics(
        [meeting_event(offering, m, host) for m in meetings],
        calendar_name=f"{offering.course.title} ({offering.label})",
        tz_name=offering.timezone,
    )
