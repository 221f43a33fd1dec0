"""The learner's journey in Chromium: read → exercise → fail a quiz → retry → pass → both bars."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.conftest import TEST_PASSWORD
from tests.e2e.conftest import assert_accessible, sign_in
from tests.integration.learner_helpers import exercise_for, quiz_for, readings_for


def _bars(page) -> tuple[str, str]:  # noqa: ANN001
    ce = page.locator(".ledger-ce .ledger-title").inner_text()
    independent = page.locator(".ledger-ind .ledger-title").inner_text()
    return ce, independent


def _answer(page, quiz, *, correct: bool) -> None:  # noqa: ANN001
    for question in quiz.questions:
        wanted = [o for o in question.options if o["correct"] == correct] or question.options[:1]
        if question.kind != "multiple":
            wanted = wanted[:1]
        for option in wanted:
            page.locator(f"input[name='q_{question.key}'][value='{option['id']}']").check()


def test_learner_journey(page, live_server, demo):
    """A learner reads, submits an exercise, fails then passes a quiz; only the independent bar moves."""
    reading, exercise, quiz = readings_for(1)[0], exercise_for(1), quiz_for(1)
    sign_in(page, live_server.url, "nurse@example.org", TEST_PASSWORD)
    page.wait_for_url(re.compile(r"/learn/offerings/\d+$"))
    ce_before, ind_before = _bars(page)
    # A nurse: her face-to-face hours are never called CE (issue 13)
    assert ce_before.startswith("Face-to-face clock hours — not CE for your license (RN): 0.00 of 16.50")
    assert "not eligible for CE" in ind_before and ind_before.startswith("Independent learning: 0.00 of ~")
    assert_accessible(page)

    page.get_by_text(re.compile(r"^Past sessions \(\d+\)$")).click()  # session 1 has met
    page.get_by_role("link", name=re.compile(r"^Session 1:")).click()
    assert_accessible(page)
    page.get_by_role("button", name=f"Mark “{reading.title}” as read").click()
    expect(page.get_by_text(re.compile(r"^Read on "))).to_have_count(1)

    page.get_by_role("link", name=re.compile(r"^Start this exercise")).first.click()
    assert page.get_by_role("heading", level=1).inner_text() == exercise.title
    page.get_by_label("Your response").fill("A caregiver paused and waited for the baby's cue.")
    assert_accessible(page)
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Your response is submitted.")).to_be_visible()

    page.goto(f"{live_server.url}/learn/offerings/{demo.offering_id}/quizzes/{quiz.key}")
    assert_accessible(page)
    _answer(page, quiz, correct=False)
    page.get_by_role("button", name="Submit answers").click()
    expect(page.get_by_role("status")).to_contain_text("Not passed")
    assert_accessible(page)
    page.get_by_role("link", name="Try again").click()
    _answer(page, quiz, correct=True)
    page.get_by_role("button", name="Submit answers").click()
    expect(page.get_by_role("status")).to_contain_text("Passed")

    page.goto(f"{live_server.url}/learn/offerings/{demo.offering_id}")
    ce_after, ind_after = _bars(page)
    assert ce_after == ce_before  # independent work never adds CE
    assert ind_after != ind_before
    minutes = reading.estimated_minutes + exercise.estimated_minutes + quiz.estimated_minutes
    assert ind_after.startswith(
        f"Independent learning: {minutes // 60}.{(minutes % 60) * 100 // 60:02d} of ~"
    )
    page.get_by_role("link", name="Transcript").click()
    assert_accessible(page)


def test_pages_work_at_phone_width(page, live_server, demo):
    """The dashboard and a session page do not scroll sideways at 375 px."""
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, live_server.url, "lcsw@example.org", TEST_PASSWORD)
    page.wait_for_url(re.compile(r"/learn/offerings/\d+$"))
    for path in ("", "/sessions/3", "/transcript"):
        page.goto(f"{live_server.url}/learn/offerings/{demo.offering_id}{path}")
        wide = page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
        assert wide is False, path
