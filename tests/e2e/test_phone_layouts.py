"""At 390×844 the roster, matrix, dashboard and transcript are usable without scrolling sideways.

Each page is opened in Chromium as the person who uses it (instructor, coordinator, learner) on the
mid-term demo story (a late arrival, an excused absence, a missing sign-out), and a full-page
screenshot is saved to ``IMH_SCREENSHOT_DIR`` (default ``test-artifacts/screenshots/``, not
committed) so a person can look at what a phone shows.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from imh_course.extensions import db
from imh_course.models import Meeting
from imh_course.models.types import utcnow
from tests.conftest import TEST_PASSWORD
from tests.e2e.conftest import assert_accessible, sign_in

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
NO_PAGE_SCROLL = "document.scrollingElement.scrollWidth <= window.innerWidth"
#: what a learner's attendance chip may say (text always, never colour alone)
CHIP_TEXTS = {"Attended", "Present", "Late", "Left early", "No sign-out", "Absent", "Excused"} | {
    "No record",
    "Not marked",
    "Not yet held",
}


@pytest.fixture
def story(app, demo):  # noqa: ARG001
    """The demo offering mid-term, as `flask imh demo` builds it (every kind of attendance record)."""
    from datetime import date

    from imh_course.operations.demo import ensure_demo, ensure_demo_story

    result = ensure_demo(date.today(), password=TEST_PASSWORD, provider="Test Provider")
    with app.test_request_context(base_url="http://localhost"):  # certificates carry a verification URL
        ensure_demo_story(result, utcnow(), password=TEST_PASSWORD, provider="Test Provider")
    db.session.commit()
    return demo


def _screenshot_dir() -> Path:
    default = Path(__file__).parents[2] / "test-artifacts" / "screenshots"
    folder = Path(os.environ.get("IMH_SCREENSHOT_DIR") or default)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _screenshot(page, name: str) -> None:  # noqa: ANN001
    page.screenshot(path=str(_screenshot_dir() / f"{name}.png"), full_page=True)


def _open(page, url: str) -> None:  # noqa: ANN001
    page.goto(url)
    page.wait_for_load_state("load")
    assert page.evaluate(NO_PAGE_SCROLL), f"{url} scrolls sideways at 390 px"


def _inside_viewport(locator) -> bool:  # noqa: ANN001
    box = locator.bounding_box()
    width = locator.page.evaluate("window.innerWidth")
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


def _chips(page) -> list[dict]:  # noqa: ANN001
    """Every status chip: its text and the shape drawn before it (an icon that is not colour)."""
    return page.evaluate(
        r"""() => [...document.querySelectorAll('.chip')].map(c => ({
            text: c.textContent.replace(/\s+/g, ' ').trim(),
            icon: (c.querySelector('.chip-icon') || {}).textContent || '',
        }))"""
    )


def _assert_chips(page) -> None:  # noqa: ANN001
    chips = _chips(page)
    assert chips, f"no status chips on {page.url}"
    for chip in chips:
        label = chip["text"].replace(chip["icon"], "").strip()
        assert label in CHIP_TEXTS, chip
        assert chip["icon"].strip(), f"chip {label!r} relies on colour alone"


def _latest_past_meeting(offering_id: int) -> Meeting:
    db.session.rollback()
    return db.session.scalars(
        select(Meeting)
        .where(Meeting.offering_id == offering_id, Meeting.end_dt <= utcnow())
        .order_by(Meeting.start_dt.desc())
    ).first()


def test_the_roster_is_one_card_per_learner_with_every_field_on_a_phone(page, live_server, story):
    """Mark, times, reason and Save of the first learner fit at 390 px; a desktop keeps the table."""
    meeting = _latest_past_meeting(story.offering_id)
    url = f"{live_server.url}/staff/offerings/{story.offering_id}/meetings/{meeting.id}/attendance"
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url, "instructor@example.org", TEST_PASSWORD)
    _open(page, url)
    card = page.locator("table.roster tbody tr").first
    name = card.locator("th").locator(".learner-name").inner_text().strip()
    fields = [
        card.get_by_label(f"Mark for {name}"),
        card.get_by_label(f"Arrival time for {name}"),
        card.get_by_label(f"Departure time for {name}"),
        card.get_by_label(f"Reason for changing {name}’s mark"),
        card.get_by_role("button", name=f"Save {name}"),
    ]
    for field in fields:
        assert field.is_visible() and _inside_viewport(field), field
    # the visible label beside each field says what it is (the column header is off-screen)
    assert card.locator(".cell-label", has_text="Arrival time").is_visible()
    _assert_chips(page)
    assert {c["text"].split(maxsplit=1)[-1] for c in _chips(page)} >= {"No sign-out"}
    assert_accessible(page)
    _screenshot(page, "roster-390")

    page.set_viewport_size(DESKTOP)
    assert card.evaluate("row => getComputedStyle(row).display") == "table-row"
    assert page.locator("table.roster thead").is_visible()
    _screenshot(page, "roster-desktop")


def test_the_matrix_keeps_the_learner_column_and_readable_charts_on_a_phone(page, live_server, story):
    """Learner names stay at the left while the matrix scrolls in its own region; chart text is ≥ 12 px."""
    base = live_server.url
    page.set_viewport_size(PHONE)
    sign_in(page, base, "coordinator@example.org", TEST_PASSWORD)
    _open(page, f"{base}/staff/offerings/{story.offering_id}/matrix")

    region = page.get_by_role("region", name="Learners × sessions")
    assert region.get_attribute("tabindex") == "0"
    name_cell = region.locator("tbody th").first
    before = name_cell.bounding_box()["x"]
    region.evaluate("r => { r.scrollLeft = 400; }")
    assert region.evaluate("r => r.scrollLeft") > 0, "the matrix should be wider than a phone"
    assert abs(name_cell.bounding_box()["x"] - before) < 1, "the learner column scrolled away"
    region.scroll_into_view_if_needed()
    page.screenshot(path=str(_screenshot_dir() / "matrix-scrolled-390.png"))
    region.evaluate("r => { r.scrollLeft = 0; }")

    # No caption or note runs past the right edge of the screen (clipped).
    clipped = page.evaluate(
        """() => [...document.querySelectorAll('caption, .region-caption')]
            .filter(c => c.offsetParent !== null && c.getBoundingClientRect().right > window.innerWidth + 0.5)
            .map(c => c.textContent.trim().slice(0, 40))"""
    )
    assert clipped == []

    sizes = page.evaluate(
        """() => [...document.querySelectorAll('svg.chart text')].map(t =>
            parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a)"""
    )
    assert sizes and min(sizes) >= 12, f"chart text as small as {min(sizes):.1f} px"
    # the numbers are also in a table beside each chart
    for chart, table in (("attendance-chart", "Learners per session"), ("funnel-chart", "Completion funnel")):
        bars = page.locator(f"#{chart}").count()
        assert bars == 1 and page.get_by_role("region", name=table).locator("tbody tr").count() > 0
    assert_accessible(page)
    _screenshot(page, "matrix-390")


def test_the_dashboard_leads_with_the_next_session_and_folds_the_past_ones(page, live_server, story):
    """Past sessions sit behind "Past sessions (N)", opened by keyboard; chips carry words and a shape."""
    base = live_server.url
    page.set_viewport_size(PHONE)
    sign_in(page, base, "lmft@example.org", TEST_PASSWORD)
    _open(page, f"{base}/learn/offerings/{story.offering_id}")
    past = page.locator("details.past-sessions")
    summary = past.locator("summary")
    assert re.fullmatch(r"Past sessions \(\d+\)", summary.inner_text().strip())
    assert past.get_attribute("open") is None
    assert not past.locator("li.session-item").first.is_visible()
    # The next session comes before the past ones on the page.
    assert page.evaluate(
        """() => { const next = document.querySelector('#next-h');
            const past = document.querySelector('details.past-sessions');
            return !!(next.compareDocumentPosition(past) & Node.DOCUMENT_POSITION_FOLLOWING); }"""
    )
    height = page.evaluate("document.scrollingElement.scrollHeight")
    assert height < 3500, f"the dashboard is {height} px long on a phone"
    _assert_chips(page)
    _screenshot(page, "dashboard-390")

    summary.focus()
    page.keyboard.press("Enter")
    assert past.get_attribute("open") is not None
    assert past.locator("li.session-item").first.is_visible()
    texts = {c["text"].split(maxsplit=1)[-1] for c in _chips(page)}
    assert "No sign-out" in texts and "Attended" in texts, texts
    assert page.evaluate(NO_PAGE_SCROLL)
    assert_accessible(page)
    _screenshot(page, "dashboard-past-open-390")


def test_the_transcript_reads_without_sideways_scrolling_on_a_phone(page, live_server, story):
    """Every session's row is stacked on a phone: no table wider than the screen, every fact labelled."""
    base = live_server.url
    page.set_viewport_size(PHONE)
    sign_in(page, base, "lmhc@example.org", TEST_PASSWORD)
    _open(page, f"{base}/learn/offerings/{story.offering_id}/transcript")
    wide = page.evaluate(
        """() => [...document.querySelectorAll('.table-scroll')]
            .filter(r => r.scrollWidth > r.clientWidth + 1).map(r => r.getAttribute('aria-label'))"""
    )
    assert wide == [], f"tables still scroll sideways: {wide}"
    first = page.locator("table tbody tr").first
    assert first.locator(".cell-label", has_text="Date").is_visible()
    assert first.locator(".cell-label", has_text="Attendance").is_visible()
    assert_accessible(page)
    _screenshot(page, "transcript-390")
