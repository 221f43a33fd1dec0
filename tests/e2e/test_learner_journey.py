"""A demo learner in a real Chromium."""

from __future__ import annotations

import re

from tests.conftest import TEST_PASSWORD
from tests.e2e.conftest import assert_accessible, sign_in


def test_learner_signs_in_and_sees_the_11_sessions_in_order(page, live_server, demo):
    """After signing in, the demo learner's dashboard lists sessions 1 to 11 in order (past ones folded)."""
    page.goto(live_server.url + "/")
    assert_accessible(page)
    sign_in(page, live_server.url, "lcsw@example.org", TEST_PASSWORD)
    page.wait_for_url(re.compile(r"/learn/offerings/\d+$"))
    page.get_by_text(re.compile(r"^Past sessions \(\d+\)$")).click()
    headings = page.locator(".session-item h3").all_inner_texts()
    assert [int(re.match(r"Session (\d+):", h).group(1)) for h in headings] == list(range(1, 12))
    assert_accessible(page)
    page.get_by_role("link", name=re.compile(r"^Session 3:")).click()
    page.wait_for_url(re.compile(r"/sessions/3$"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("Session 3:")
    assert_accessible(page)


def test_wrong_password_shows_the_generic_message(page, live_server, demo):
    """A failed sign-in in the browser shows the generic message and stays on the sign-in page."""
    sign_in(page, live_server.url, "lcsw@example.org", "not-the-password")
    assert page.get_by_role("alert").inner_text().startswith("That email and password do not match")
    assert page.url.endswith("/login")
    assert_accessible(page)


def test_sign_in_page_works_at_phone_width(page, live_server):
    """At 375 px wide nothing scrolls sideways and the form is usable."""
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(live_server.url + "/login")
    overflow = page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
    assert overflow is False
    assert page.get_by_label("Email").is_visible()
