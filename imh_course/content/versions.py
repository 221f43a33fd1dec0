"""An item version: what its checksum covers (its *source*) and the unsaved row built from it.

Sync (``sync.py``) and browser authoring (``operations/authoring.py``, ``operations/quiz_authoring.py``)
both compute checksums and build rows with these functions, so an item exported to the files and
synced again is "unchanged". Markdown is rendered to sanitised HTML here, at import, never at
request time.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

from ..markup import render_markdown
from ..models.curriculum import CourseSession, Exercise, Quiz, QuizQuestion, Reading
from .loader import LoadedReading
from .schema import ExerciseSpec, QuestionSpec, QuizSpec


def checksum(value: Any) -> str:
    """SHA-256 of the canonical JSON of ``value`` (sorted keys): the version's identity."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@lru_cache(maxsize=2048)
def render_cached(source: str) -> str:
    """Markdown to sanitised HTML, cached per process (the same texts recur across items and syncs)."""
    return render_markdown(source)


def render_inline(source: str) -> str:
    """Short authored text (a question prompt, an option's feedback) rendered like a paragraph."""
    return render_cached(source)


def reading_source(reading: LoadedReading, session_key: str, position: int) -> dict[str, Any]:
    """What a reading's checksum covers: its front matter, body, session and position."""
    return {
        "meta": reading.meta.model_dump(mode="json"),
        "body": reading.body,
        "session": session_key,
        "position": position,
    }


def exercise_source(spec: ExerciseSpec, session_key: str, position: int) -> dict[str, Any]:
    """What an exercise's checksum covers (files and browser alike)."""
    return {"spec": spec.model_dump(mode="json"), "session": session_key, "position": position}


def quiz_source(spec: QuizSpec, session_key: str) -> dict[str, Any]:
    """What a quiz's checksum covers: the whole quiz file, questions and answer key included."""
    return {"spec": spec.model_dump(mode="json"), "session": session_key}


def build_reading(reading: Any, position: int, session: CourseSession) -> Reading:
    """A new (unsaved) reading version from its loaded file."""
    meta = reading.meta
    return Reading(
        session_id=session.id,
        position=position,
        title=meta.title,
        estimated_minutes=meta.estimated_minutes,
        citation=meta.citation.model_dump(mode="json"),
        key_concepts=list(meta.key_concepts),
        guiding_questions=list(meta.guiding_questions),
        body_md=reading.body,
        body_html=render_cached(reading.body),
    )


def build_exercise(spec: ExerciseSpec, position: int, session: CourseSession) -> Exercise:
    """A new (unsaved) exercise version from its validated spec; sync and browser authoring share it."""
    return Exercise(
        session_id=session.id,
        position=position,
        title=spec.title,
        kind=spec.kind.value,
        estimated_minutes=spec.estimated_minutes,
        instructions_md=spec.instructions,
        instructions_html=render_cached(spec.instructions),
    )


def build_question(spec: QuestionSpec, position: int) -> QuizQuestion:
    """A new (unsaved) question: Markdown sources kept for export, sanitised HTML for learners."""
    return QuizQuestion(
        key=spec.id,
        position=position,
        kind=spec.kind.value,
        prompt_md=spec.prompt,
        prompt_html=render_inline(spec.prompt),
        points=spec.points,
        options=[
            {
                "id": o.id,
                "text": o.text,
                "correct": o.correct,
                "feedback": o.feedback,
                "feedback_html": render_inline(o.feedback),
            }
            for o in spec.options
        ],
    )


def build_quiz(spec: QuizSpec, session: CourseSession) -> Quiz:
    """A new (unsaved) quiz version with all its questions; sync and browser authoring share it."""
    quiz = Quiz(
        session_id=session.id,
        title=spec.title,
        estimated_minutes=spec.estimated_minutes,
        pass_mark=spec.pass_mark,
        max_attempts=spec.max_attempts,
    )
    for position, q in enumerate(spec.questions):
        quiz.questions.append(build_question(q, position))
    return quiz
