"""A per-process snapshot of one course's published content, kept correct across worker processes.

Why: every learner page needs the course's sessions and their current, published readings,
exercises and quizzes. Re-reading them (about 110 ORM objects) for every learner on every request
was a third of the dashboard's cost, yet they change only when content is synced, authored in the
browser or (un)published.

How it stays correct with several gunicorn workers (or hosts):

* ``Course.content_revision`` holds a random value. Every code path that changes content calls
  ``bump_content_revision`` (``models/content_revision.py``) **in the same transaction**
  (``content/sync.py``, and the copy-on-write and publish helpers of ``operations/authoring.py``
  that quiz authoring also goes through), so the new value becomes visible exactly when the new
  content does.
* A request reads the revision from the database (folded into a query it makes anyway, see
  ``views/learner_common.py``) and asks ``course_snapshot(course_id, revision)``: the cached
  snapshot if it was built for that revision, else a fresh one. Nothing in memory is trusted
  without that comparison, so a worker that missed a change notices it on its very next request.
* Revisions are random, never counters: a snapshot built inside a transaction that is then rolled
  back is cached under a value no committed row will ever hold, and two databases behind one
  process (tests) cannot collide. A snapshot is cached only if the revision still reads the same
  after it was built, so a change committed meanwhile (PostgreSQL reads committed data statement by
  statement) cannot leave a half-old snapshot behind.

The snapshot holds plain frozen values (no ORM objects, no session), safe to share between the
threads of a worker. It includes the reading texts of the session page (the whole course is a few
hundred kilobytes) and the estimated minutes of every version, so older work counts at the
estimate of the version it was done on without another query.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from flask import current_app
from sqlalchemy import func, literal, select, union_all

from ..extensions import db
from ..models.curriculum import (
    Course,
    CourseSession,
    Exercise,
    Quiz,
    QuizQuestion,
    Reading,
)

#: Key of the per-app cache in ``app.extensions`` (one cache per app: tests build many apps).
_CACHE_KEY = "imh_course.content_snapshots"


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """One session of the course (the manifest's fields)."""

    id: int
    key: str
    number: int
    title: str
    objectives: tuple[str, ...]
    competencies: tuple[str, ...]
    face_to_face_minutes: int


@dataclass(frozen=True, slots=True)
class ReadingInfo:
    """The current, published version of a reading, with the texts the session page shows."""

    id: int
    key: str
    session_id: int
    title: str
    estimated_minutes: int
    citation: Mapping[str, Any]
    key_concepts: tuple[str, ...]
    guiding_questions: tuple[str, ...]
    #: rendered and sanitised at import
    body_html: str


@dataclass(frozen=True, slots=True)
class ExerciseInfo:
    """The current, published version of an exercise (its instructions live on the exercise page)."""

    id: int
    key: str
    session_id: int
    title: str
    kind: str
    estimated_minutes: int


@dataclass(frozen=True, slots=True)
class QuizInfo:
    """The current, published version of a quiz; the questions themselves live on the quiz page."""

    id: int
    key: str
    session_id: int
    title: str
    estimated_minutes: int
    pass_mark: int
    max_attempts: int | None
    question_count: int


@dataclass(frozen=True, slots=True)
class SessionContent:
    """One session and its current, published items, in authored order."""

    session: SessionInfo
    readings: tuple[ReadingInfo, ...]
    exercises: tuple[ExerciseInfo, ...]
    quizzes: tuple[QuizInfo, ...]

    @property
    def available_minutes(self) -> int:
        """Estimated minutes of all the session's independent work (never CE)."""
        return (
            sum(r.estimated_minutes for r in self.readings)
            + sum(e.estimated_minutes for e in self.exercises)
            + sum(q.estimated_minutes for q in self.quizzes)
        )


@dataclass(frozen=True, slots=True)
class CourseSnapshot:
    """A course's published content as of ``revision``."""

    course_id: int
    revision: str
    title: str
    #: by session number
    sessions: tuple[SessionContent, ...]
    #: estimated minutes of every version (current or not, published or not), by version id
    reading_minutes: Mapping[int, int]
    exercise_minutes: Mapping[int, int]
    quiz_minutes: Mapping[int, int]

    def session_number(self, number: int) -> SessionContent | None:
        return next((s for s in self.sessions if s.session.number == number), None)


# --- the revision ----------------------------------------------------------------------------------


def current_revision(course_id: int) -> str | None:
    """The course's content revision as committed (or as written by this transaction)."""
    return db.session.scalar(select(Course.content_revision).where(Course.id == course_id))


# --- the cache ------------------------------------------------------------------------------------


def course_snapshot(course_id: int, revision: str | None = None) -> CourseSnapshot:
    """The snapshot of ``course_id`` for ``revision`` (read from the database when not given)."""
    if revision is None:
        revision = current_revision(course_id)
        if revision is None:
            raise LookupError(f"no course {course_id}")
    cache: dict[int, CourseSnapshot] = current_app.extensions.setdefault(_CACHE_KEY, {})
    cached = cache.get(course_id)
    if cached is not None and cached.revision == revision:
        return cached
    snapshot = build_snapshot(course_id, revision)
    # Cache it only if no content change was committed while it was being read.
    if current_revision(course_id) == revision:
        cache[course_id] = snapshot
    return snapshot


def forget_snapshots() -> None:
    """Drop this app's cached snapshots (tests; never needed for correctness)."""
    current_app.extensions.pop(_CACHE_KEY, None)


# --- building -------------------------------------------------------------------------------------


def _frozen(value: Any) -> Any:
    """JSON values made immutable: dicts become read-only mappings, lists tuples."""
    if isinstance(value, dict):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def _current(model: type, course_id: int) -> Any:
    """Current, published versions of ``model`` in the course, ordered by session and position."""
    return (
        select()
        .select_from(model)
        .join(CourseSession, CourseSession.id == model.session_id)
        .where(CourseSession.course_id == course_id, model.is_current.is_(True), model.is_published.is_(True))
        .order_by(model.session_id, model.position, model.id)
    )


def build_snapshot(course_id: int, revision: str) -> CourseSnapshot:
    """Read the course's published content (six queries; only when the revision changed)."""
    execute = db.session.execute
    title = db.session.scalar(select(Course.title).where(Course.id == course_id))
    if title is None:
        raise LookupError(f"no course {course_id}")
    sessions = [
        SessionInfo(
            row.id,
            row.key,
            row.number,
            row.title,
            tuple(row.objectives),
            tuple(row.competencies),
            row.face_to_face_minutes,
        )
        for row in execute(
            select(
                CourseSession.id,
                CourseSession.key,
                CourseSession.number,
                CourseSession.title,
                CourseSession.objectives,
                CourseSession.competencies,
                CourseSession.face_to_face_minutes,
            )
            .where(CourseSession.course_id == course_id)
            .order_by(CourseSession.number)
        )
    ]
    readings = [
        ReadingInfo(
            r.id,
            r.key,
            r.session_id,
            r.title,
            r.estimated_minutes,
            _frozen(r.citation),
            tuple(r.key_concepts),
            tuple(r.guiding_questions),
            r.body_html,
        )
        for r in execute(
            _current(Reading, course_id).add_columns(
                Reading.id,
                Reading.key,
                Reading.session_id,
                Reading.title,
                Reading.estimated_minutes,
                Reading.citation,
                Reading.key_concepts,
                Reading.guiding_questions,
                Reading.body_html,
            )
        )
    ]
    exercises = [
        ExerciseInfo(*row)
        for row in execute(
            _current(Exercise, course_id).add_columns(
                Exercise.id,
                Exercise.key,
                Exercise.session_id,
                Exercise.title,
                Exercise.kind,
                Exercise.estimated_minutes,
            )
        )
    ]
    question_count = (
        select(func.count(QuizQuestion.id)).where(QuizQuestion.quiz_id == Quiz.id).scalar_subquery()
    )
    quizzes = [
        QuizInfo(*row)
        for row in execute(
            _current(Quiz, course_id).add_columns(
                Quiz.id,
                Quiz.key,
                Quiz.session_id,
                Quiz.title,
                Quiz.estimated_minutes,
                Quiz.pass_mark,
                Quiz.max_attempts,
                question_count,
            )
        )
    ]
    minutes: dict[str, dict[int, int]] = {"reading": {}, "exercise": {}, "quiz": {}}
    versions = union_all(
        *(
            select(literal(kind), model.id, model.estimated_minutes)
            .join(CourseSession, CourseSession.id == model.session_id)
            .where(CourseSession.course_id == course_id)
            for kind, model in (("reading", Reading), ("exercise", Exercise), ("quiz", Quiz))
        )
    )
    for kind, item_id, estimate in execute(versions):
        minutes[kind][item_id] = estimate
    return CourseSnapshot(
        course_id=course_id,
        revision=revision,
        title=title,
        sessions=tuple(
            SessionContent(
                session=s,
                readings=tuple(r for r in readings if r.session_id == s.id),
                exercises=tuple(e for e in exercises if e.session_id == s.id),
                quizzes=tuple(q for q in quizzes if q.session_id == s.id),
            )
            for s in sessions
        ),
        reading_minutes=MappingProxyType(minutes["reading"]),
        exercise_minutes=MappingProxyType(minutes["exercise"]),
        quiz_minutes=MappingProxyType(minutes["quiz"]),
    )
