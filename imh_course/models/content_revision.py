"""Keeping ``Course.content_revision``: every write of a course's content gives it a new revision.

The per-process content snapshots (``records/content_snapshot.py``) trust a cached snapshot only
while the revision it was built for is still the committed one, so whatever writes content must
change the revision in the same transaction. The writers call ``bump_content_revision``
(``content/sync.py``, ``operations/authoring.py``); the ``before_flush`` listener below is the
safety net for an ORM write that forgets. Split from the snapshot so the read side never writes;
imported by ``models/__init__`` so the listener is registered wherever the tables are.
"""

from __future__ import annotations

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from ..extensions import db
from .curriculum import Course, CourseSession, Exercise, Quiz, QuizQuestion, Reading, new_content_revision


def bump_content_revision(*, session_id: int | None = None) -> None:
    """Give the course of ``session_id`` (every course when None) a new content revision, in the
    caller's transaction.

    Call it whenever a course's sessions, readings, exercises or quizzes change: every worker's
    cached snapshot of it becomes stale when the transaction commits (and not before).
    """
    statement = update(Course).values(content_revision=new_content_revision())
    if session_id is not None:
        course = select(CourseSession.course_id).where(CourseSession.id == session_id).scalar_subquery()
        statement = statement.where(Course.id == course)
    db.session.execute(statement, execution_options={"synchronize_session": False})


#: The rows a snapshot is made of: a flush that writes any of them must change the revision.
CONTENT_MODELS: tuple[type, ...] = (CourseSession, Reading, Exercise, Quiz, QuizQuestion)


def _writes_content(session: Session) -> bool:
    if any(isinstance(obj, CONTENT_MODELS) for obj in (*session.new, *session.deleted)):
        return True
    return any(
        isinstance(obj, CONTENT_MODELS) and session.is_modified(obj, include_collections=False)
        for obj in session.dirty
    )


@event.listens_for(Session, "before_flush")
def _bump_on_content_write(session: Session, _context: object, _instances: object) -> None:
    """Safety net under the explicit bumps: a code path that changes content through the ORM and
    forgets ``bump_content_revision`` still invalidates every worker's snapshot (every course: the
    module has one). Core ``update()`` statements on content tables are not seen here; the explicit
    bumps cover those."""
    if _writes_content(session):
        session.connection().execute(update(Course).values(content_revision=new_content_revision()))
