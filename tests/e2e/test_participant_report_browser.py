"""An instructor credits a live online meeting from its Zoom report in Chromium: upload → match →
preview → apply, and the roster then shows the report's evidence."""

from __future__ import annotations

import hashlib
import re

from playwright.sync_api import expect

from imh_course.extensions import db
from imh_course.models import AttendanceMethod, ParticipantAlias
from tests.conftest import TEST_PASSWORD
from tests.e2e.conftest import assert_accessible, sign_in
from tests.integration.participant_helpers import class_report, online_meeting
from tests.integration.test_attendance import record_of


def test_instructor_uploads_matches_previews_and_applies_a_zoom_report(page, live_server, demo, tmp_path):
    meeting = online_meeting(demo.offering_id)
    raw = class_report()
    report = tmp_path / "participants_8123456789.csv"
    report.write_bytes(raw)
    base = live_server.url
    sign_in(page, base, "instructor@example.org", TEST_PASSWORD)
    page.goto(f"{base}/staff/offerings/{demo.offering_id}/meetings/{meeting.id}/attendance")
    expect(page.get_by_role("heading", name="Upload a participant report")).to_be_visible()
    page.get_by_label("Participant report (Zoom or Microsoft Teams)").set_input_files(str(report))
    page.get_by_role("button", name="Upload and check").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Match the remaining names")
    expect(page.get_by_text("read as a Zoom report")).to_be_visible()
    phone = page.locator("#match-table tr", has_text="Galaxy S22")
    expect(phone.locator("td").first).to_have_text("75")
    assert_accessible(page)
    page.get_by_label("Learner for Galaxy S22").select_option(label="Nia Nurse")
    phone.get_by_label("Remember for later meetings").check()
    page.get_by_role("button", name="Continue to the preview").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Preview: what the report changes")
    lena = page.locator(f"#preview-{demo.lcsw_id}")
    expect(lena).to_contain_text("11:55 AM–12:40 PM EST")
    expect(lena).to_contain_text("12:50–1:31 PM EST")
    expect(lena.locator("td").nth(1)).to_have_text("80")
    expect(lena.locator("td").nth(2)).to_have_text("75")
    expect(page.locator(f"#preview-{demo.nurse_id}")).to_contain_text("matched by you")
    expect(page.get_by_text(re.compile(r"Staff \(ignored\): Ines Instructor"))).to_be_visible()
    assert_accessible(page)
    db.session.rollback()  # end the test's read snapshot: the live server writes in its own sessions
    assert record_of(meeting.id, demo.lcsw_id) is None  # nothing written by the preview
    page.get_by_role("button", name="Apply to the attendance records").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Attendance: Session 10")
    expect(page.get_by_role("status").filter(has_text="Applied participants_8123456789.csv")).to_contain_text(
        "3 new marks, 0 corrections, 0 unchanged. 1 name remembered for later meetings."
    )
    sha = hashlib.sha256(raw).hexdigest()
    expect(page.locator(f"code.sha[title='{sha}']")).to_have_count(3)  # in each learner's evidence
    assert_accessible(page)
    db.session.rollback()
    assert record_of(meeting.id, demo.nurse_id).method is AttendanceMethod.VIDEO_REPORT
    assert db.session.query(ParticipantAlias).count() == 1
