"""Participant reports (Zoom, Teams) → rows → merged, clipped intervals → exact credited minutes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from imh_course.rules.credit import AttendanceStatus, CreditMode, CreditPolicy, MeetingWindow, meeting_credit
from imh_course.rules.online_credit import date_problem, online_credit
from imh_course.rules.participant_report import ReportError, parse_duration, parse_report
from tests.unit.rules.report_files import teams_csv, teams_tsv_utf16, zoom_csv

NY = "America/New_York"
ZONE = ZoneInfo(NY)
#: Tuesday Dec 1, 2026, 12:00-13:30 in New York (EST, UTC-5)
MEETING = MeetingWindow(
    3, datetime(2026, 12, 1, 17, 0, tzinfo=UTC), datetime(2026, 12, 1, 18, 30, tzinfo=UTC)
)


def _joins(report, email: str | None = None, name: str | None = None):
    return [
        (r.join, r.leave)
        for r in report.rows
        if (email is not None and r.email == email) or (name is not None and r.name == name)
    ]


def test_zoom_rejoins_are_merged_and_clipped_to_the_meeting():
    """Joined early, dropped for 10 minutes, rejoined and stayed past the end: 80 min → 75 credited."""
    raw = zoom_csv(
        ("Ana Ruiz", "Ana@Example.org", "12/01/2026 11:52:00 AM", "12/01/2026 12:40:00 PM", 48, "No"),
        ("Ana Ruiz", "ana@example.org", "12/01/2026 12:50:00 PM", "12/01/2026 01:36:00 PM", 46, "No"),
    )
    report = parse_report(raw, NY)
    assert report.platform == "Zoom"
    assert report.columns["name"] == "Name (original name)"
    assert report.columns["email"] == "User Email"
    assert "join time: “Join time”" in report.columns_text
    assert len(report.rows) == 2  # one row per join; the meeting block is not a participant
    assert report.rows[0].email == "ana@example.org"  # emails compared case-insensitively
    assert report.rows[0].join == datetime(2026, 12, 1, 16, 52, tzinfo=UTC)
    credit = online_credit(MEETING, _joins(report, "ana@example.org"))
    assert credit.attended == 40 + 40  # 12:00-12:40 and 12:50-13:30
    assert credit.credited == 75
    status, arrived, departed = credit.record_times(MEETING)
    assert status is AttendanceStatus.LEFT_EARLY
    # the stored pair credits exactly what the intervals do, under the one rule
    assert meeting_credit(MEETING)(status, arrived, departed) == (80, 75)


def test_overlapping_devices_count_once():
    """Laptop 12:00-13:30 and phone 12:30-13:00 at the same time: 90 minutes, not 120."""
    raw = zoom_csv(
        ("Bo Lee", "bo@example.org", "12/01/2026 12:00:00 PM", "12/01/2026 01:30:00 PM", 90, "No"),
        ("Bo Lee (iPhone)", "bo@example.org", "12/01/2026 12:30:00 PM", "12/01/2026 01:00:00 PM", 30, "No"),
    )
    credit = online_credit(MEETING, _joins(parse_report(raw, NY), "bo@example.org"))
    assert (credit.attended, credit.credited) == (90, 90)
    assert len(credit.intervals) == 1
    assert credit.record_times(MEETING) == (AttendanceStatus.PRESENT, MEETING.start, MEETING.end)


def test_never_left_without_duration_credits_nothing_but_leave_at_the_end_counts():
    """A missing leave time is a sign-in without a sign-out; a leave after the end is clipped."""
    header_only = (
        b"Name (original name),User Email,Join time,Leave time,Guest\r\n"
        b"Cy Moss,cy@example.org,12/01/2026 12:05:00 PM,,No\r\n"
        b"Di Park,di@example.org,12/01/2026 12:20:00 PM,12/01/2026 02:10:00 PM,No\r\n"
    )
    report = parse_report(header_only, NY)
    cy = online_credit(MEETING, _joins(report, "cy@example.org"))
    assert (cy.attended, cy.credited) == (0, 0)
    assert cy.open_joins == (datetime(2026, 12, 1, 17, 5, tzinfo=UTC),)
    # stored as an arrival without a departure: credits nothing, and the roster flags it
    assert cy.record_times(MEETING) == (
        AttendanceStatus.PRESENT,
        datetime(2026, 12, 1, 17, 5, tzinfo=UTC),
        None,
    )
    di = online_credit(MEETING, _joins(report, "di@example.org"))
    assert (di.attended, di.credited) == (70, 60)
    assert di.record_times(MEETING)[0] is AttendanceStatus.LATE


def test_missing_leave_with_a_duration_uses_the_duration():
    raw = zoom_csv(("Cy Moss", "cy@example.org", "12/01/2026 12:00:00 PM", "", 50, "No"))
    cy = online_credit(MEETING, _joins(parse_report(raw, NY), "cy@example.org"))
    assert (cy.attended, cy.credited) == (50, 45)


def test_whole_meeting_policy_is_the_same_rule():
    raw = zoom_csv(
        ("Ana Ruiz", "ana@example.org", "12/01/2026 12:03:00 PM", "12/01/2026 01:30:00 PM", 87, "No")
    )
    joins = _joins(parse_report(raw, NY), "ana@example.org")
    strict = CreditPolicy(mode=CreditMode.WHOLE_MEETING)
    assert online_credit(MEETING, joins, strict).credited == 0
    lenient = CreditPolicy(mode=CreditMode.WHOLE_MEETING, grace_minutes=5)
    assert online_credit(MEETING, joins, lenient).credited == 90


def test_times_after_the_dst_change_are_read_in_standard_time():
    """Nov 3, 2026 is after DST ended (Nov 1): 12:00 in New York is 17:00 UTC, not 16:00."""
    raw = zoom_csv(
        ("Ana Ruiz", "ana@example.org", "11/03/2026 12:00:00 PM", "11/03/2026 01:30:00 PM", 90, "No")
    )
    row = parse_report(raw, NY).rows[0]
    assert row.join == datetime(2026, 11, 3, 17, 0, tzinfo=UTC)
    before = parse_report(
        zoom_csv(
            ("Ana Ruiz", "ana@example.org", "10/27/2026 12:00:00 PM", "10/27/2026 01:30:00 PM", 90, "No")
        ),
        NY,
    ).rows[0]
    assert before.join == datetime(2026, 10, 27, 16, 0, tzinfo=UTC)  # EDT, UTC-4


def test_a_meeting_across_the_dst_change_uses_the_duration_for_the_repeated_hour():
    """1:10 AM EDT → 1:20 AM EST on Nov 1, 2026 is 70 minutes; the wall times alone say 10."""
    night = MeetingWindow(
        9, datetime(2026, 11, 1, 5, 0, tzinfo=UTC), datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    )  # 1:00 AM EDT – 1:30 AM EST
    raw = zoom_csv(
        ("Ana Ruiz", "ana@example.org", "11/01/2026 01:10:00 AM", "11/01/2026 01:20:00 AM", 70, "No")
    )
    row = parse_report(raw, NY).rows[0]
    assert row.join == datetime(2026, 11, 1, 5, 10, tzinfo=UTC)
    assert row.leave == datetime(2026, 11, 1, 6, 20, tzinfo=UTC)
    assert online_credit(night, [(row.join, row.leave)]).credited == 60


def test_a_guest_and_an_unmatched_name_are_read_as_rows():
    raw = zoom_csv(
        ("Visitor", "", "12/01/2026 12:00:00 PM", "12/01/2026 12:30:00 PM", 30, "Yes"),
        ("Jo's iPad", "", "12/01/2026 12:00:00 PM", "12/01/2026 01:30:00 PM", 90, "No"),
    )
    guest, unmatched = parse_report(raw, NY).rows
    assert guest.guest and guest.email is None
    assert not unmatched.guest and unmatched.name == "Jo's iPad"


def test_teams_old_utf16_tsv():
    raw = teams_tsv_utf16(
        (
            "Ana Ruiz",
            "12/1/2026, 11:58:01 AM",
            "12/1/2026, 12:31:00 PM",
            "32m 59s",
            "Ana@example.org",
            "Attendee",
        ),
        (
            "Ana Ruiz",
            "12/1/2026, 12:40:00 PM",
            "12/1/2026, 1:33:12 PM",
            "53m 12s",
            "Ana@example.org",
            "Attendee",
        ),
        (
            "Ines Teach",
            "12/1/2026, 11:50:00 AM",
            "12/1/2026, 1:33:12 PM",
            "1h 43m 12s",
            "instructor@example.org",
            "Organizer",
        ),
    )
    report = parse_report(raw, NY)
    assert report.platform == "Microsoft Teams"
    assert report.columns == {
        "name": "Full Name",
        "email": "Email",
        "join": "Join Time",
        "leave": "Leave Time",
        "duration": "Duration",
        "role": "Role",
    }
    assert [r.role for r in report.rows] == ["Attendee", "Attendee", "Organizer"]
    ana = online_credit(MEETING, _joins(report, "ana@example.org"))
    assert (ana.attended, ana.credited) == (31 + 50, 75)


def test_teams_new_csv_reads_the_in_meeting_activities():
    """The per-join table is used, not the Participants table's first join / last leave."""
    raw = teams_csv(
        [
            (
                "Ana Ruiz",
                "12/1/26, 12:00:00 PM",
                "12/1/26, 1:30:00 PM",
                "1h 10m",
                "ana@example.org",
                "Attendee",
            )
        ],
        [
            (
                "Ana Ruiz",
                "12/1/26, 12:00:00 PM",
                "12/1/26, 12:30:00 PM",
                "30m",
                "ana@example.org",
                "Attendee",
            ),
            ("Ana Ruiz", "12/1/26, 12:50:00 PM", "12/1/26, 1:30:00 PM", "40m", "ana@example.org", "Attendee"),
        ],
    )
    report = parse_report(raw, NY)
    assert report.columns["join"] == "Join Time"
    assert len(report.rows) == 2
    assert online_credit(MEETING, _joins(report, "ana@example.org")).attended == 70
    assert report.warnings == []


def test_teams_participants_table_alone_is_read_with_a_warning():
    raw = (
        b"Name,First Join,Last Leave,In-Meeting Duration,Email,Role\n"
        b'Ana Ruiz,"12/1/26, 12:00:00 PM","12/1/26, 1:30:00 PM",1h 30m,ana@example.org,Attendee\n'
    )
    report = parse_report(raw, NY)
    assert report.platform == "Microsoft Teams"
    assert "first join and last leave" in report.warnings[0]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe\xfd", "not a text export"),
        (b"Learner,Score\nAna,10\n", "No participants table found"),
        (b"Name,Join time\nAna,12/01/2026 12:00 PM\n", "no leave time or duration column"),
        (
            "Full Name\tUser Action\tTimestamp\nAna\tJoined\t12/1/2026, 12:00:00 PM\n".encode("utf-16"),
            "oldest attendance list",
        ),
        (
            b"Name (original name),User Email,Join time,Leave time\nAna,a@x.org,yesterday-ish,\n",
            "line 2: the join time “yesterday-ish” is not a date and time",
        ),
        (
            b"Name (original name),User Email,Join time,Leave time\n"
            b"Ana,a@x.org,12/01/2026 01:00 PM,12/01/2026 12:00 PM\n",
            "leave time is before the join time",
        ),
        (b"Name (original name),User Email,Join time,Leave time\n", "has no rows"),
        (b"Name,Join time,Leave time\nA\x00na,1,2\n", "control characters"),
    ],
)
def test_unreadable_files_are_refused_with_the_reason(raw, reason):
    with pytest.raises(ReportError, match=reason):
        parse_report(raw, NY)


def test_a_file_from_another_meeting_date_is_refused():
    raw = zoom_csv(
        ("Ana Ruiz", "ana@example.org", "12/08/2026 12:00:00 PM", "12/08/2026 01:30:00 PM", 90, "No")
    )
    report = parse_report(raw, NY)
    problem = date_problem(MEETING, [r.join for r in report.rows], ZONE)
    assert problem is not None
    assert "Dec 8, 2026" in problem and "Dec 1, 2026 at 12:00 PM" in problem
    this_one = zoom_csv(
        ("Ana Ruiz", "ana@example.org", "12/01/2026 11:50:00 AM", "12/01/2026 01:30:00 PM", 90, "No")
    )
    assert date_problem(MEETING, [r.join for r in parse_report(this_one, NY).rows], ZONE) is None


def test_durations():
    assert parse_duration("45").total_seconds() == 45 * 60
    assert parse_duration("1h 28m 3s").total_seconds() == 5283
    assert parse_duration("01:28:03").total_seconds() == 5283
    assert parse_duration("") is None
    with pytest.raises(ValueError):
        parse_duration("about an hour")
