"""At phone width (390×844) the table-heavy pages pass axe, and no page asks for a missing file."""

from __future__ import annotations

from tests.conftest import TEST_PASSWORD
from tests.e2e.conftest import assert_accessible, sign_in
from tests.integration.coordinator_helpers import give_records

PHONE = {"width": 390, "height": 844}


def _watch_missing(page) -> list[str]:  # noqa: ANN001
    """Collect every URL the page requested that answered 404 (a missing favicon shows up here)."""
    missing: list[str] = []
    page.on("response", lambda response: missing.append(response.url) if response.status == 404 else None)
    return missing


def test_staff_pages_with_wide_tables_pass_axe_on_a_phone(page, live_server, demo):
    """Course page, audit trail, matrix, drill-down: every scrolling table is a reachable, named region."""
    base = live_server.url
    give_records(demo.offering_id, demo.lcsw_id, attended=3)
    page.set_viewport_size(PHONE)
    missing = _watch_missing(page)
    page.goto(f"{base}/")
    assert_accessible(page)
    sign_in(page, base, "coordinator@example.org", TEST_PASSWORD)
    offering = f"{base}/staff/offerings/{demo.offering_id}"
    for url in (
        f"{base}/staff/audit",
        offering,
        f"{offering}/matrix",
        f"{offering}/enrolments",
        f"{offering}/learners/{demo.lcsw_id}",
    ):
        page.goto(url)
        page.wait_for_load_state("load")
        assert_accessible(page)
    assert missing == []


def test_learner_pages_pass_axe_on_a_phone_with_ordered_headings(page, live_server, demo):
    """Transcript and certificates pass axe; the session page's reading headings are in order."""
    from axe_playwright_python.sync_playwright import Axe

    base = live_server.url
    give_records(demo.offering_id, demo.lcsw_id, attended=3)
    page.set_viewport_size(PHONE)
    missing = _watch_missing(page)
    sign_in(page, base, "lcsw@example.org", TEST_PASSWORD)
    learn = f"{base}/learn/offerings/{demo.offering_id}"
    for url in (learn, f"{learn}/transcript", f"{learn}/certificates"):
        page.goto(url)
        page.wait_for_load_state("load")
        assert_accessible(page)
    page.goto(f"{learn}/sessions/1")
    page.wait_for_load_state("load")
    assert_accessible(page)
    violations = {v["id"] for v in Axe().run(page).response["violations"]}
    assert "heading-order" not in violations
    assert missing == []
