"""Quiz attempts: graded once, tied to the quiz version they were taken on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .curriculum import Quiz
from .types import UTCDateTime, utcnow


class QuizAttempt(db.Model):
    __tablename__ = "imh_quiz_attempt"
    __table_args__ = (
        # The exactly-once invariant: a double click, a retry or a second tab that submits the
        # same attempt number collides here and is answered with the attempt already graded.
        UniqueConstraint("user_id", "offering_id", "quiz_key", "attempt_no"),
        CheckConstraint("attempt_no >= 1", name="attempt_no_positive"),
        CheckConstraint("points >= 0 AND points <= max_points", name="points_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the learner
    user_id: Mapped[int] = mapped_column(ForeignKey("imh_user.id"), nullable=False, index=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("imh_offering.id"), nullable=False, index=True)
    #: stable quiz id
    quiz_key: Mapped[str] = mapped_column(String(80), nullable=False)
    #: the quiz version taken (its questions and answer key)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("imh_quiz.id"), nullable=False)
    #: 1 for the first attempt, 2 for the second …
    attempt_no: Mapped[int] = mapped_column(nullable=False)
    #: {question key: [selected option ids]}
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    points: Mapped[int] = mapped_column(nullable=False)
    max_points: Mapped[int] = mapped_column(nullable=False)
    #: floor(points / max_points * 100)
    percent: Mapped[int] = mapped_column(nullable=False)
    passed: Mapped[bool] = mapped_column(nullable=False)
    #: when it was graded (UTC)
    submitted_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    quiz: Mapped[Quiz] = relationship()

    def __repr__(self) -> str:
        return f"<QuizAttempt u{self.user_id} {self.quiz_key} #{self.attempt_no} {self.percent}%>"
