"""Browser authoring of a session's quiz: its settings and its questions, each change a new quiz version.

Split from ``operations/authoring.py`` (the house's ~400-line rule) because a quiz is edited
differently from an exercise: one quiz per session, changed question by question, and every
change copies the whole quiz (settings and all questions) into a new ``Quiz`` row, so attempts keep
the version they were taken on. The rules of ``operations/authoring.py`` hold here unchanged, and
the machinery they share lives there: ``AuthoringError`` / ``EditConflict``, validation against the
file schema (``validated``, ``clean_text``), keys (``unique_key``), copy-on-write versions and
their audit events (``lock_current``, ``save_new_version``, ``save_first_version``) and
``set_published``. This module imports from it, never the other way round.

Operations flush, never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..content.export import MissingSourceError, quiz_spec_of
from ..content.schema import QuestionSpec, QuizSpec
from ..content.versions import build_question, build_quiz, checksum, quiz_source
from ..extensions import db
from ..models.audit_chain import Actor
from ..models.curriculum import CourseSession, Quiz, QuizQuestion
from .authoring import (
    AuthoringError,
    clean_text,
    lock_current,
    save_first_version,
    save_new_version,
    unique_key,
    validated,
)

#: Letters used as option ids for new options (``a`` … ``h``: at most 8 options).
OPTION_IDS = "abcdefghijklmnopqrstuvwxyz"


# --- drafts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptionDraft:
    text: str
    correct: bool
    feedback: str


@dataclass(frozen=True)
class QuestionDraft:
    kind: str
    prompt: str
    options: list[OptionDraft] = field(default_factory=list)
    points: int = 1


@dataclass(frozen=True)
class QuizSettings:
    title: str
    estimated_minutes: int
    pass_mark: int = 80
    max_attempts: int | None = 3


# --- reading the quiz -----------------------------------------------------------------------------


def session_quiz(session: CourseSession) -> Quiz | None:
    """The current version of the session's quiz (published or not), with its questions."""
    return db.session.scalar(
        select(Quiz)
        .where(Quiz.session_id == session.id, Quiz.is_current.is_(True))
        .options(selectinload(Quiz.questions))
        .order_by(Quiz.id)
        .limit(1)
    )


def quizzes_by_session(session_ids: Sequence[int]) -> dict[int, Quiz]:
    """``session_quiz`` of several sessions in two statements (quizzes, then their questions)."""
    found: dict[int, Quiz] = {}
    for quiz in db.session.scalars(
        select(Quiz)
        .where(Quiz.session_id.in_(list(session_ids)), Quiz.is_current.is_(True))
        .options(selectinload(Quiz.questions))
        .order_by(Quiz.id)
    ):
        found.setdefault(quiz.session_id, quiz)
    return found


def find_question(quiz: Quiz, key: str) -> QuizQuestion | None:
    return next((q for q in quiz.questions if q.key == key), None)


def quiz_settings_of(quiz: Quiz) -> QuizSettings:
    return QuizSettings(
        title=quiz.title,
        estimated_minutes=quiz.estimated_minutes,
        pass_mark=quiz.pass_mark,
        max_attempts=quiz.max_attempts,
    )


def question_draft_of(question: QuizQuestion) -> QuestionDraft:
    return QuestionDraft(
        kind=question.kind,
        prompt=question.prompt_md or "",
        points=question.points,
        options=[
            OptionDraft(text=o["text"], correct=bool(o["correct"]), feedback=o.get("feedback", ""))
            for o in question.options
        ],
    )


# --- validation -----------------------------------------------------------------------------------


def question_spec(draft: QuestionDraft, key: str, option_ids: list[str] | None = None) -> QuestionSpec:
    """Validate a question; ``option_ids`` keeps the ids of an edited question's options by position."""
    ids = list(option_ids or [])
    free = [letter for letter in OPTION_IDS if letter not in ids]
    options = []
    for index, option in enumerate(draft.options):
        option_id = ids[index] if index < len(ids) else (free.pop(0) if free else f"o{index}")
        options.append(
            {
                "id": option_id,
                "text": clean_text(option.text),
                "correct": bool(option.correct),
                "feedback": clean_text(option.feedback),
            }
        )
    data = {
        "id": key,
        "kind": draft.kind,
        "prompt": clean_text(draft.prompt),
        "points": draft.points,
        "options": options,
    }
    return validated(QuestionSpec, data)


def _quiz_spec(quiz_key: str, session: CourseSession, settings: QuizSettings, questions: list) -> QuizSpec:
    data = {
        "id": quiz_key,
        "session": session.number,
        "title": clean_text(settings.title),
        "estimated_minutes": settings.estimated_minutes,
        "pass_mark": settings.pass_mark,
        "max_attempts": settings.max_attempts,
        "questions": questions,
    }
    return validated(QuizSpec, data)


def _spec_of_quiz(quiz: Quiz) -> QuizSpec:
    try:
        return quiz_spec_of(quiz)
    except MissingSourceError as exc:
        raise AuthoringError({"": exc.problems}) from exc


# --- keys -----------------------------------------------------------------------------------------


def new_quiz_key(session: CourseSession) -> str:
    def taken(key: str) -> bool:
        return db.session.scalar(select(Quiz.id).where(Quiz.key == key).limit(1)) is not None

    return unique_key(f"{session.key}-quiz", taken)


def _new_question_key(existing: list[str]) -> str:
    n = len(existing) + 1
    while f"q{n}" in existing:
        n += 1
    return f"q{n}"


# --- saving ---------------------------------------------------------------------------------------


def preview_question(draft: QuestionDraft, key: str = "preview", option_ids: list[str] | None = None) -> Any:
    """An unsaved question exactly as learners would see it (validated, rendered and sanitised)."""
    return build_question(question_spec(draft, key, option_ids), 0)


def _save_quiz(actor: Actor, quiz: Quiz, spec: QuizSpec, what: dict[str, Any]) -> tuple[Quiz, bool]:
    session = quiz.session
    digest = checksum(quiz_source(spec, session.key))
    if digest == quiz.checksum:
        return quiz, False
    return save_new_version(actor, quiz, build_quiz(spec, session), digest, what), True


def create_quiz(
    actor: Actor, session: CourseSession, settings: QuizSettings, first_question: QuestionDraft
) -> Quiz:
    """The session's quiz with its first question, unpublished; a session has at most one quiz."""
    if session_quiz(session) is not None:
        raise AuthoringError({"": ["This session already has a quiz: add questions to it instead."]})
    question = question_spec(first_question, "q1")
    spec = _quiz_spec(new_quiz_key(session), session, settings, [question.model_dump(mode="json")])
    digest = checksum(quiz_source(spec, session.key))
    return save_first_version(
        actor, build_quiz(spec, session), spec.id, digest, {"title": spec.title, "session": session.number}
    )


def edit_quiz_settings(
    actor: Actor, quiz: Quiz, settings: QuizSettings, *, base_version: int | None = None
) -> tuple[Quiz, bool]:
    lock_current(quiz, base_version)
    current = _spec_of_quiz(quiz)
    questions = [q.model_dump(mode="json") for q in current.questions]
    spec = _quiz_spec(quiz.key, quiz.session, settings, questions)
    return _save_quiz(actor, quiz, spec, {"settings": True})


def add_question(
    actor: Actor, quiz: Quiz, draft: QuestionDraft, *, base_version: int | None = None
) -> tuple[Quiz, str]:
    """A new quiz version with ``draft`` appended; returns (new version, the question's key)."""
    lock_current(quiz, base_version)
    current = _spec_of_quiz(quiz)
    key = _new_question_key([q.id for q in current.questions])
    question = question_spec(draft, key)
    questions = [q.model_dump(mode="json") for q in current.questions] + [question.model_dump(mode="json")]
    spec = _quiz_spec(quiz.key, quiz.session, quiz_settings_of(quiz), questions)
    new, _changed = _save_quiz(actor, quiz, spec, {"question_added": key})
    return new, key


def edit_question(
    actor: Actor, quiz: Quiz, question_key: str, draft: QuestionDraft, *, base_version: int | None = None
) -> tuple[Quiz, bool]:
    """A new quiz version in which one question is replaced; the other questions are copied."""
    lock_current(quiz, base_version)
    current = _spec_of_quiz(quiz)
    old = next((q for q in current.questions if q.id == question_key), None)
    if old is None:
        raise AuthoringError({"": [f"This quiz has no question {question_key!r}."]})
    question = question_spec(draft, question_key, [o.id for o in old.options])
    questions = [(question if q.id == question_key else q).model_dump(mode="json") for q in current.questions]
    spec = _quiz_spec(quiz.key, quiz.session, quiz_settings_of(quiz), questions)
    return _save_quiz(actor, quiz, spec, {"question_edited": question_key})


def remove_question(
    actor: Actor, quiz: Quiz, question_key: str, *, base_version: int | None = None
) -> tuple[Quiz, bool]:
    """A new quiz version without one question; a quiz keeps at least one question."""
    lock_current(quiz, base_version)
    current = _spec_of_quiz(quiz)
    remaining = [q.model_dump(mode="json") for q in current.questions if q.id != question_key]
    if len(remaining) == len(current.questions):
        raise AuthoringError({"": [f"This quiz has no question {question_key!r}."]})
    if not remaining:
        raise AuthoringError({"": ["A quiz needs at least one question: unpublish the quiz instead."]})
    spec = _quiz_spec(quiz.key, quiz.session, quiz_settings_of(quiz), remaining)
    return _save_quiz(actor, quiz, spec, {"question_removed": question_key})
