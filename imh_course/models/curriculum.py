"""The course, its sessions and their versioned content (readings, exercises, quizzes).

Content rows are immutable versions: a changed item becomes a new row with ``version + 1`` and
``is_current`` moves to it, so attempts and responses keep pointing at what the learner saw.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, enum_column, utcnow


class ContentOrigin(StrEnum):
    """Where a content version was written: loaded from the files, or authored in the browser.

    ``flask imh content sync`` retires only file items that left the files and never overwrites a
    browser-authored current version; exporting it to the files and syncing hands it back to them.
    """

    FILE = "file"
    BROWSER = "browser"


def new_content_revision() -> str:
    """A fresh, random content revision: never reused, even after a rolled-back change or a restore."""
    return secrets.token_hex(8)


class Course(db.Model):
    __tablename__ = "imh_course"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: stable id from readings/course.yaml
    key: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    #: course title
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    #: the public description (validated CourseDescription, Markdown fields rendered to safe HTML)
    description: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    #: hash of the source, to detect changes on sync
    checksum: Mapped[str] = mapped_column(String(64), nullable=False)
    #: bumped when the description changes
    version: Mapped[int] = mapped_column(nullable=False, default=1)
    #: replaced by a new random value in the same transaction as any change to the course's published
    #: content (sessions, readings, exercises, quizzes); worker processes key their cached snapshot
    #: of that content by it (``content_snapshot.py``), so one cheap read tells them it is stale
    content_revision: Mapped[str] = mapped_column(
        String(32), nullable=False, default=new_content_revision, server_default="initial"
    )

    sessions: Mapped[list[CourseSession]] = relationship(
        back_populates="course", order_by="CourseSession.number"
    )

    def __repr__(self) -> str:
        return f"<Course {self.key}>"


class CourseSession(db.Model):
    __tablename__ = "imh_course_session"
    __table_args__ = (UniqueConstraint("course_id", "number"), UniqueConstraint("course_id", "key"))

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the course this session belongs to
    course_id: Mapped[int] = mapped_column(ForeignKey("imh_course.id"), nullable=False)
    #: stable id from the manifest, e.g. session-01
    key: Mapped[str] = mapped_column(String(80), nullable=False)
    #: 1..11, the order of the sessions
    number: Mapped[int] = mapped_column(nullable=False)
    #: session title
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    #: learning objectives (list of strings)
    objectives: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    #: scheduled face-to-face minutes (the CE-eligible part)
    face_to_face_minutes: Mapped[int] = mapped_column(nullable=False)
    #: NYS-AIMH competency domains served (official names)
    competencies: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    #: hash of the manifest's session fields
    checksum: Mapped[str] = mapped_column(String(64), nullable=False)
    #: bumped when the manifest changes
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    course: Mapped[Course] = relationship(back_populates="sessions")

    def __repr__(self) -> str:
        return f"<CourseSession {self.number} {self.key}>"


class _ContentVersion:
    """Columns every versioned content item has."""

    id: Mapped[int] = mapped_column(primary_key=True)
    #: stable id from the content file
    key: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    #: 1, 2, … per key
    version: Mapped[int] = mapped_column(nullable=False)
    #: the newest version; the only one shown to learners
    is_current: Mapped[bool] = mapped_column(nullable=False, default=True)
    #: hidden from learners when False; nobody's work is deleted
    is_published: Mapped[bool] = mapped_column(nullable=False, default=True)
    #: position within the session
    position: Mapped[int] = mapped_column(nullable=False, default=0)
    #: hash of the authored source of this version
    checksum: Mapped[str] = mapped_column(String(64), nullable=False)
    #: when this version was created (UTC)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: file (loaded by sync) or browser (authored by an instructor); see ContentOrigin
    origin: Mapped[ContentOrigin] = mapped_column(
        enum_column(ContentOrigin, length=10),
        nullable=False,
        default=ContentOrigin.FILE,
        server_default=ContentOrigin.FILE.value,
    )


class Reading(_ContentVersion, db.Model):
    __tablename__ = "imh_reading"
    __table_args__ = (UniqueConstraint("key", "version"),)

    #: the session this reading is assigned to
    session_id: Mapped[int] = mapped_column(ForeignKey("imh_course_session.id"), nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    #: authored estimate; the unit of the independent-learning ledger
    estimated_minutes: Mapped[int] = mapped_column(nullable=False)
    #: authors, year, title, venue, kind
    citation: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    key_concepts: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    guiding_questions: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    #: the authored Markdown summary
    body_md: Mapped[str] = mapped_column(Text, nullable=False)
    #: rendered with a safe preset and sanitised at import
    body_html: Mapped[str] = mapped_column(Text, nullable=False)

    session: Mapped[CourseSession] = relationship()

    def __repr__(self) -> str:
        return f"<Reading {self.key} v{self.version}>"


class Exercise(_ContentVersion, db.Model):
    __tablename__ = "imh_exercise"
    __table_args__ = (UniqueConstraint("key", "version"),)

    #: the session this exercise belongs to
    session_id: Mapped[int] = mapped_column(ForeignKey("imh_course_session.id"), nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    #: reflective or applied
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    estimated_minutes: Mapped[int] = mapped_column(nullable=False)
    #: authored Markdown
    instructions_md: Mapped[str] = mapped_column(Text, nullable=False)
    #: sanitised HTML shown to learners
    instructions_html: Mapped[str] = mapped_column(Text, nullable=False)

    session: Mapped[CourseSession] = relationship()

    def __repr__(self) -> str:
        return f"<Exercise {self.key} v{self.version}>"


class Quiz(_ContentVersion, db.Model):
    __tablename__ = "imh_quiz"
    __table_args__ = (UniqueConstraint("key", "version"),)

    #: the session this quiz belongs to
    session_id: Mapped[int] = mapped_column(ForeignKey("imh_course_session.id"), nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    estimated_minutes: Mapped[int] = mapped_column(nullable=False)
    #: percent needed to pass
    pass_mark: Mapped[int] = mapped_column(nullable=False, default=80)
    #: NULL = unlimited
    max_attempts: Mapped[int | None] = mapped_column(nullable=True)

    session: Mapped[CourseSession] = relationship()
    questions: Mapped[list[QuizQuestion]] = relationship(
        back_populates="quiz", order_by="QuizQuestion.position", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Quiz {self.key} v{self.version}>"


class QuizQuestion(db.Model):
    __tablename__ = "imh_quiz_question"
    __table_args__ = (UniqueConstraint("quiz_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the quiz version this question belongs to (questions are part of that version)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("imh_quiz.id"), nullable=False, index=True)
    #: stable id within the quiz
    key: Mapped[str] = mapped_column(String(40), nullable=False)
    position: Mapped[int] = mapped_column(nullable=False)
    #: single, multiple or true_false
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    #: the authored Markdown source of the prompt (what export writes back); NULL only for versions
    #: synced before migration 0003, until the next sync fills it in
    prompt_md: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: sanitised HTML
    prompt_html: Mapped[str] = mapped_column(Text, nullable=False)
    points: Mapped[int] = mapped_column(nullable=False, default=1)
    #: [{id, text, correct, feedback, feedback_html}] — the answer key: never sent to the browser;
    #: ``feedback`` is the authored Markdown source (absent before migration 0003 until the next sync)
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)

    quiz: Mapped[Quiz] = relationship(back_populates="questions")

    def __repr__(self) -> str:
        return f"<QuizQuestion {self.quiz_id}/{self.key}>"
