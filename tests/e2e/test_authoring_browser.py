"""An instructor edits a quiz question in a real Chromium (real CSRF tokens, axe on every page)."""

from __future__ import annotations

import re

from sqlalchemy import select

from imh_course.extensions import db
from imh_course.models.curriculum import CourseSession, Quiz
from tests.conftest import TEST_PASSWORD
from tests.e2e.conftest import assert_accessible, sign_in


def current_quiz(number: int) -> Quiz:
    db.session.rollback()  # see what the server thread committed
    session = db.session.scalar(select(CourseSession).where(CourseSession.number == number))
    return db.session.scalar(select(Quiz).where(Quiz.session_id == session.id, Quiz.is_current.is_(True)))


def test_instructor_edits_a_quiz_question_with_preview(page, live_server, demo):
    """From the staff home to a saved question edit: preview shows the learner view, nothing executes."""
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    before = current_quiz(3)

    sign_in(page, live_server.url, "instructor@example.org", TEST_PASSWORD)
    page.goto(live_server.url + "/staff")
    page.get_by_role("link", name=re.compile(r"^Course content")).click()
    page.wait_for_url(re.compile(r"/content$"))
    assert_accessible(page)
    page.get_by_role("link", name=re.compile(r"^Session 3:")).click()
    page.wait_for_url(re.compile(r"/sessions/3/content$"))
    assert_accessible(page)
    page.get_by_role("link", name="Edit question 1").click()
    page.wait_for_url(re.compile(r"/quiz/questions/q1/edit$"))
    assert_accessible(page)

    page.get_by_label("Question", exact=True).fill(
        "What are the *ghosts in the nursery*? <img src=x onerror=alert(1)>"
    )
    page.get_by_label("Option 1 text").fill("Unresolved experiences from the parents' own past")
    page.get_by_label("Feedback for option 1").fill("Correct: **the parents'** history.")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("section.preview")
    assert preview.locator(".prompt em").inner_text() == "ghosts in the nursery"
    assert preview.locator("img").count() == 0
    assert "<img src=x onerror=alert(1)>" in preview.locator(".prompt").inner_text()
    assert preview.get_by_label("Unresolved experiences from the parents' own past").is_visible()
    assert current_quiz(3).id == before.id  # a preview saves nothing
    assert_accessible(page)

    page.get_by_role("button", name="Save question").click()
    page.wait_for_url(re.compile(r"/sessions/3/content#question-q1$"))
    assert page.get_by_role("status").first.inner_text().startswith("Question saved")
    assert_accessible(page)
    assert dialogs == []

    after = current_quiz(3)
    assert after.version == before.version + 1
    q1 = after.questions[0]
    assert q1.prompt_md.startswith("What are the *ghosts in the nursery*?")
    assert "&lt;img src=x onerror=alert(1)&gt;" in q1.prompt_html
    assert q1.options[0]["feedback_html"] == "<p>Correct: <strong>the parents'</strong> history.</p>\n"


def test_an_invalid_answer_key_is_explained_on_the_form(page, live_server, demo):
    """Ticking two answers on a single-answer question shows the rule next to the form, accessibly."""
    sign_in(page, live_server.url, "instructor@example.org", TEST_PASSWORD)
    page.goto(f"{live_server.url}/staff/offerings/{demo.offering_id}/sessions/3/quiz/questions/q1/edit")
    page.get_by_label("Option 1 is correct").check()
    page.get_by_label("Option 2 is correct").check()
    page.get_by_role("button", name="Save question").click()
    assert "exactly one correct option; 2 are marked correct" in page.get_by_role("alert").inner_text()
    assert_accessible(page)
