"""An instructor takes attendance in Chromium while a learner checks in from another browser."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from imh_course.extensions import db
from imh_course.models import AuditEvent, CourseSession, Meeting
from imh_course.models.types import utcnow
from tests.conftest import TEST_PASSWORD
from tests.e2e.conftest import assert_accessible, sign_in

LENA = "Lena Social-Worker"


@pytest.fixture
def live(demo) -> Meeting:
    """Session 6 moved to now: started five minutes ago, 90 minutes long."""
    meeting = db.session.scalar(
        select(Meeting)
        .join(CourseSession, Meeting.session_id == CourseSession.id)
        .where(Meeting.offering_id == demo.offering_id, CourseSession.number == 6)
    )
    start = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=5)
    meeting.start_dt, meeting.end_dt = start, start + timedelta(minutes=90)
    db.session.commit()
    return meeting


def _no_horizontal_scroll(page) -> bool:  # noqa: ANN001
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_instructor_runs_check_in_and_corrects_a_mark_with_a_reason(
    page, browser, browser_context_args, live_server, demo, live
):
    """Open check-in, a learner signs in from another browser, everyone else is marked, one mark corrected."""
    console_errors: list[str] = []
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
    # 400 answers (a refused correction) and the missing favicon log "failed to load": not script errors.
    base = live_server.url
    sign_in(page, base, "instructor@example.org", TEST_PASSWORD)
    page.goto(f"{base}/staff/offerings/{demo.offering_id}")
    page.get_by_role("link", name="Attendance for session 6").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Attendance: Session 6")
    assert_accessible(page)

    page.get_by_role("button", name="Open check-in and show the code").click()
    page.wait_for_url(re.compile(r"/checkin$"))
    code = page.locator("#checkin-code").inner_text().strip()
    assert re.fullmatch(r"\d{6}", code)
    assert_accessible(page)

    learner_context = browser.new_context(**browser_context_args)
    try:
        learner = learner_context.new_page()
        sign_in(learner, base, "lcsw@example.org", TEST_PASSWORD)
        learner.wait_for_url(re.compile(r"/learn/offerings/\d+$"))
        learner.goto(f"{base}/learn/offerings/{demo.offering_id}/check-in")
        expect(learner.get_by_text(re.compile(r"^Session 6:"))).to_be_visible()
        assert_accessible(learner)
        wrong = "000000" if code != "000000" else "111111"
        learner.get_by_label("Check-in code").fill(wrong)
        learner.get_by_role("button", name="Sign in to Session 6").click()
        expect(learner.get_by_role("alert")).to_contain_text("That code is not right")
        assert_accessible(learner)
        learner.get_by_label("Check-in code").fill(page.locator("#checkin-code").inner_text().strip())
        learner.get_by_role("button", name="Sign in to Session 6").click()
        expect(learner.get_by_text(re.compile(r"You are signed in to Session 6"))).to_be_visible()
        expect(learner.get_by_role("button", name="Sign out of Session 6")).to_be_visible()
        assert_accessible(learner)
    finally:
        learner_context.close()

    page.get_by_role("link", name=re.compile(r"Attendance for Session 6")).click()
    lena_row = page.locator("tr", has=page.get_by_role("rowheader", name=re.compile(LENA)))
    expect(lena_row).to_contain_text("no sign-out")
    page.get_by_role("button", name="Mark everyone present for the full meeting").click()
    expect(page.get_by_text("Marked 2 learners present for the full meeting.")).to_be_visible()
    assert_accessible(page)

    zone = ZoneInfo("America/New_York")
    left_at = (live.start_dt + timedelta(minutes=65)).astimezone(zone).strftime("%H:%M")
    page.get_by_label(f"Mark for {LENA}").select_option("left_early")
    page.get_by_label(f"Departure time for {LENA}").fill(left_at)
    page.get_by_role("button", name=f"Save {LENA}").click()
    expect(page.get_by_role("alert")).to_contain_text("give a reason for the change")
    assert_accessible(page)

    reason = "Left for a home visit; confirmed by the instructor"
    page.get_by_label(f"Mark for {LENA}").select_option("left_early")
    page.get_by_label(f"Departure time for {LENA}").fill(left_at)
    page.get_by_label(f"Reason for changing {LENA}’s mark").fill(reason)
    page.get_by_role("button", name=f"Save {LENA}").click()
    expect(page.get_by_text(f"Corrected: {LENA}")).to_be_visible()
    history = page.locator(f"#history-{demo.lcsw_id}")
    history.locator("summary").click()
    expect(history).to_contain_text(f"Reason: “{reason}”")
    expect(history).to_contain_text("Indira Instructor (instructor)")
    expect(history).to_contain_text("Sign-in by check-in code")
    assert_accessible(page)

    db.session.rollback()  # end the test's read snapshot: the live server wrote in its own sessions
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "attendance.correct"))
    assert event.reason == reason and event.before["departed"] is None
    assert [e for e in console_errors if not e.startswith("Failed to load resource")] == []


def test_roster_and_check_in_pages_work_at_phone_width(page, live_server, demo, live):
    """At 375 px the page never scrolls sideways: the roster is one card per learner, nothing off-screen."""
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, live_server.url, "instructor@example.org", TEST_PASSWORD)
    page.goto(f"{live_server.url}/staff/offerings/{demo.offering_id}/meetings/{live.id}/attendance")
    assert _no_horizontal_scroll(page)
    fits = "[...document.querySelectorAll('.table-scroll')].every(r => r.scrollWidth <= r.clientWidth)"
    assert page.evaluate(fits)
    page.get_by_role("button", name="Open check-in and show the code").click()
    page.wait_for_url(re.compile(r"/checkin$"))
    assert page.locator("#checkin-code").is_visible()
    assert _no_horizontal_scroll(page)
    page.context.clear_cookies()
    sign_in(page, live_server.url, "lcsw@example.org", TEST_PASSWORD)
    page.goto(f"{live_server.url}/learn/offerings/{demo.offering_id}/check-in")
    assert page.get_by_label("Check-in code").is_visible()
    assert _no_horizontal_scroll(page)
