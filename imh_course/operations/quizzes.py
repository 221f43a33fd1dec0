"""Submitting a quiz attempt: graded exactly once, against the version the learner was shown.

The form carries the attempt number it was built for. A double click, a retried request or a
second tab submitting the same number finds the attempt already graded and gets it back; the
unique (learner, offering, quiz, attempt number) constraint makes this hold between workers too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..database import locked
from ..extensions import db
from ..lti.grades import queue_if_linked
from ..models.audit_chain import Actor
from ..models.curriculum import Quiz
from ..models.offerings import Enrolment, Offering
from ..models.quizzes import QuizAttempt
from ..rules.grading import GradeResult, OptionKey, QuestionKey, QuestionKind, attempts_left, grade
from ..xapi import producers as xapi


class QuizError(ValueError):
    """A clear reason an attempt was not graded."""


@dataclass(frozen=True)
class SubmitOutcome:
    attempt: QuizAttempt
    created: bool  # False when this submission repeated one already graded


def answer_key(quiz: Quiz) -> list[QuestionKey]:
    """The grading key of one quiz version (server side only)."""
    return [
        QuestionKey(
            id=q.key,
            kind=QuestionKind(q.kind),
            points=q.points,
            options=tuple(
                OptionKey(o["id"], bool(o["correct"]), o.get("feedback_html", "")) for o in q.options
            ),
        )
        for q in quiz.questions
    ]


def grade_answers(quiz: Quiz, answers: Mapping[str, Sequence[str]]) -> GradeResult:
    return grade(answer_key(quiz), answers, quiz.pass_mark)


def attempts_for(user_id: int, offering_id: int, quiz_key: str) -> list[QuizAttempt]:
    return list(
        db.session.scalars(
            select(QuizAttempt)
            .where(
                QuizAttempt.user_id == user_id,
                QuizAttempt.offering_id == offering_id,
                QuizAttempt.quiz_key == quiz_key,
            )
            .order_by(QuizAttempt.attempt_no)
        )
    )


def submit_attempt(
    actor: Actor, offering: Offering, quiz: Quiz, attempt_no: int, answers: Mapping[str, Sequence[str]]
) -> SubmitOutcome:
    """Grade and store attempt ``attempt_no`` once; a repeat returns the stored attempt."""
    user_id = actor.user.id
    # Serialise this learner's submissions (PostgreSQL row lock; SQLite already holds the write lock).
    db.session.scalar(
        locked(select(Enrolment.id).where(Enrolment.offering_id == offering.id, Enrolment.user_id == user_id))
    )
    previous = attempts_for(user_id, offering.id, quiz.key)
    for attempt in previous:
        if attempt.attempt_no == attempt_no:
            return SubmitOutcome(attempt, created=False)
    passed = next((a for a in previous if a.passed), None)
    if passed is not None:
        return SubmitOutcome(passed, created=False)
    if attempt_no != len(previous) + 1:
        raise QuizError("This quiz page was out of date. Please look at your latest result and try again.")
    left = attempts_left(quiz.max_attempts, len(previous))
    if left == 0:
        raise QuizError("You have used all your attempts at this quiz. Please contact your instructor.")
    result = grade_answers(quiz, answers)
    attempt = QuizAttempt(
        user_id=user_id,
        offering_id=offering.id,
        quiz_key=quiz.key,
        quiz_id=quiz.id,
        attempt_no=attempt_no,
        answers={q.key: sorted(set(answers.get(q.key, []))) for q in quiz.questions},
        points=result.points,
        max_points=result.max_points,
        percent=result.percent,
        passed=result.passed,
    )
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
    except IntegrityError:
        existing = next(a for a in attempts_for(user_id, offering.id, quiz.key) if a.attempt_no == attempt_no)
        return SubmitOutcome(existing, created=False)
    xapi.on_quiz_attempt(offering, quiz, attempt, actor.user)
    if attempt.passed:  # a failed attempt changes no completion
        queue_if_linked(offering.id, user_id)
    return SubmitOutcome(attempt, created=True)
