"""Helpers for tests that act as a learner: the right and wrong answers to a quiz version."""

from __future__ import annotations

from sqlalchemy import select

from imh_course.extensions import db
from imh_course.models import CourseSession, Exercise, Quiz, Reading


def current(model, session_number: int):
    return db.session.scalars(
        select(model)
        .join(CourseSession, model.session_id == CourseSession.id)
        .where(CourseSession.number == session_number, model.is_current.is_(True))
        .order_by(model.position)
    ).all()


def quiz_for(session_number: int) -> Quiz:
    return current(Quiz, session_number)[0]


def readings_for(session_number: int) -> list[Reading]:
    return current(Reading, session_number)


def exercise_for(session_number: int) -> Exercise:
    return current(Exercise, session_number)[0]


def answers(quiz: Quiz, *, correct: bool = True) -> dict[str, list[str]]:
    """Form data answering every question right (or every question wrong)."""
    data: dict[str, list[str]] = {}
    for q in quiz.questions:
        right = [o["id"] for o in q.options if o["correct"]]
        wrong = [o["id"] for o in q.options if not o["correct"]]
        if correct:
            data[f"q_{q.key}"] = right if q.kind == "multiple" else right[:1]
        else:
            data[f"q_{q.key}"] = wrong[:1] if wrong else right[:1] + ["zz"]
    return data


def quiz_form(quiz: Quiz, attempt_no: int, *, correct: bool = True) -> dict[str, object]:
    return {**answers(quiz, correct=correct), "attempt_no": str(attempt_no), "quiz_version": str(quiz.id)}
