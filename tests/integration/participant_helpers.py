"""A live online meeting of the demo offering and participant reports for it (issue 18 tests)."""

from __future__ import annotations

from datetime import UTC, datetime

from imh_course.extensions import db
from imh_course.models import DeliveryFormat, Meeting, Offering
from tests.integration.test_attendance import meeting_for
from tests.unit.rules.report_files import zoom_csv

#: Tuesday Dec 1, 2026, 12:00-13:30 New York (EST)
START = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
END = datetime(2026, 12, 1, 18, 30, tzinfo=UTC)


def online_meeting(
    offering_id: int, number: int = 10, start: datetime = START, end: datetime = END
) -> Meeting:
    """The demo offering made live online; session ``number`` (not yet attended) moved to ``start``."""
    offering = db.session.get(Offering, offering_id)
    offering.format = DeliveryFormat.LIVE_ONLINE
    offering.meeting_url = "https://zoom.example.org/j/8123456789"
    meeting = meeting_for(offering_id, number)
    meeting.start_dt, meeting.end_dt = start, end
    db.session.commit()
    return meeting


def class_report(day: str = "12/01/2026") -> bytes:
    """LCSW rejoins (75 credited), LMHC on two devices (90), the instructor, a guest, a phone name."""
    t = lambda clock: f"{day} {clock}"  # noqa: E731
    return zoom_csv(
        ("Casey Social", "LCSW@Example.org", t("11:55:00 AM"), t("12:40:00 PM"), 45, "No"),
        ("Casey Social", "lcsw@example.org", t("12:50:00 PM"), t("01:31:00 PM"), 41, "No"),
        ("Morgan Counsel", "lmhc@example.org", t("12:00:00 PM"), t("01:30:00 PM"), 90, "No"),
        ("Morgan (phone)", "lmhc@example.org", t("12:10:00 PM"), t("12:40:00 PM"), 30, "No"),
        ("Ines Instructor", "instructor@example.org", t("11:45:00 AM"), t("01:35:00 PM"), 110, "No"),
        ("Visitor", "", t("12:00:00 PM"), t("12:30:00 PM"), 30, "Yes"),
        ("Galaxy S22", "", t("12:05:00 PM"), t("01:20:00 PM"), 75, "Yes"),
    )
