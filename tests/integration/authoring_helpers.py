"""Helpers shared by the authoring, export and feedback tests (form data, rows, page checks)."""

from __future__ import annotations

from sqlalchemy import select

from imh_course.extensions import db
from imh_course.markup import render_learner_text
from imh_course.models.accounts import User
from imh_course.models.audit_chain import Actor
from imh_course.models.curriculum import CourseSession, Exercise, Quiz
from imh_course.models.progress import ExerciseResponse, ResponseStatus
from imh_course.models.types import utcnow
from imh_course.security.roles import Role
from tests.xss import unsafe_markup

#: Elements every page legitimately has (the app's own forms); anything else unsafe_markup reports
#: on a whole page came from content.
APP_ELEMENTS = ("<form> element", "<input> element", "<button> element", "<textarea> element", "<select>")


def page_findings(html: str) -> list[str]:
    """Unsafe markup in a page's <main>, ignoring the app's own form controls."""
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    return [f for f in unsafe_markup("<main" + main + "</main>") if not f.startswith(APP_ELEMENTS)]


def instructor_actor(user_id: int) -> Actor:
    return Actor(user=db.session.get(User, user_id), role=Role.INSTRUCTOR.value, ip_address="127.0.0.1")


def session_number(number: int) -> CourseSession:
    return db.session.scalar(select(CourseSession).where(CourseSession.number == number))


def current_exercise(key: str) -> Exercise | None:
    return db.session.scalar(select(Exercise).where(Exercise.key == key, Exercise.is_current.is_(True)))


def current_quiz_of(number: int) -> Quiz:
    session = session_number(number)
    return db.session.scalar(select(Quiz).where(Quiz.session_id == session.id, Quiz.is_current.is_(True)))


def exercise_form(
    title: str = "Noticing a Ghost in Practice",
    kind: str = "reflective",
    minutes: int | str = 10,
    instructions: str = "Describe **one** moment this week when a family reminded you of your own history.",
    *,
    action: str = "save",
    base_version: int | None = None,
) -> dict[str, str]:
    data = {
        "title": title,
        "kind": kind,
        "estimated_minutes": str(minutes),
        "instructions": instructions,
        action: action.capitalize(),
    }
    if base_version is not None:
        data["base_version"] = str(base_version)
    return data


def question_form(
    prompt: str = "Which is *protective* against repeating the past?",
    options: list[tuple[str, bool, str]] | None = None,
    kind: str = "single",
    points: int | str = 1,
    *,
    action: str = "save",
    base_version: int | None = None,
    settings: dict[str, str] | None = None,
) -> dict[str, str]:
    if options is None:
        options = [
            ("Remembering the feelings, with support", True, "Correct: remembering the *affect* helps."),
            ("Forgetting the events", False, "Not quite: forgetting does not protect."),
        ]
    data = {"kind": kind, "prompt": prompt, "points": str(points), action: action.capitalize()}
    for index, (text, correct, feedback) in enumerate(options):
        data[f"options-{index}-text"] = text
        data[f"options-{index}-feedback"] = feedback
        if correct:
            data[f"options-{index}-correct"] = "y"
    if base_version is not None:
        data["base_version"] = str(base_version)
    data.update(settings or {})
    return data


def make_response(
    user_id: int,
    offering_id: int,
    exercise: Exercise,
    body: str = "When the baby cried I felt *my own* impatience.",
    *,
    shared: bool = True,
    submitted: bool = True,
) -> ExerciseResponse:
    """A learner's response row, as the learner's exercise page would save it."""
    response = ExerciseResponse(
        user_id=user_id,
        offering_id=offering_id,
        exercise_key=exercise.key,
        exercise_id=exercise.id,
        body=body,
        body_html=render_learner_text(body),
        status=ResponseStatus.SUBMITTED if submitted else ResponseStatus.DRAFT,
        is_shared=shared,
        revision=1,
    )
    if submitted:
        response.submitted_dt = utcnow()
    db.session.add(response)
    db.session.commit()
    return response
