"""Independent learning: readings marked complete and exercise responses (with their history).

Progress rows point at the content *version* the learner used and carry the stable key, so a
later edit of a reading or exercise never rewrites what the learner did.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .curriculum import Exercise, Reading
from .types import UTCDateTime, enum_column, utcnow


class ReadingCompletion(db.Model):
    __tablename__ = "imh_reading_completion"
    __table_args__ = (UniqueConstraint("user_id", "offering_id", "reading_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the learner
    user_id: Mapped[int] = mapped_column(ForeignKey("imh_user.id"), nullable=False, index=True)
    #: the offering the learner was studying in
    offering_id: Mapped[int] = mapped_column(ForeignKey("imh_offering.id"), nullable=False, index=True)
    #: stable reading id (one completion per reading, whatever its version)
    reading_key: Mapped[str] = mapped_column(String(80), nullable=False)
    #: the version the learner read
    reading_id: Mapped[int] = mapped_column(ForeignKey("imh_reading.id"), nullable=False)
    #: when the learner marked it complete (UTC)
    completed_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    reading: Mapped[Reading] = relationship()

    def __repr__(self) -> str:
        return f"<ReadingCompletion u{self.user_id} {self.reading_key}>"


class ResponseStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class ExerciseResponse(db.Model):
    __tablename__ = "imh_exercise_response"
    __table_args__ = (UniqueConstraint("user_id", "offering_id", "exercise_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the learner (the only person who may read a private response)
    user_id: Mapped[int] = mapped_column(ForeignKey("imh_user.id"), nullable=False, index=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("imh_offering.id"), nullable=False, index=True)
    #: stable exercise id
    exercise_key: Mapped[str] = mapped_column(String(80), nullable=False)
    #: the exercise version answered (latest save)
    exercise_id: Mapped[int] = mapped_column(ForeignKey("imh_exercise.id"), nullable=False)
    #: the learner's text as typed (plain text or a small Markdown subset)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: body rendered and sanitised at save time; raw HTML in the body is escaped
    body_html: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: draft or submitted
    status: Mapped[ResponseStatus] = mapped_column(enum_column(ResponseStatus), nullable=False)
    #: private by default; an instructor sees it only when True
    is_shared: Mapped[bool] = mapped_column(nullable=False, default=False)
    #: number of saves so far (the history is in imh_exercise_response_revision)
    revision: Mapped[int] = mapped_column(nullable=False, default=1)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: first submission (UTC); counts for independent learning from then on
    submitted_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    exercise: Mapped[Exercise] = relationship()
    revisions: Mapped[list[ExerciseResponseRevision]] = relationship(
        back_populates="response", order_by="ExerciseResponseRevision.revision"
    )
    feedback: Mapped[list[ResponseFeedback]] = relationship(
        back_populates="response", order_by="ResponseFeedback.created_dt"
    )

    def __repr__(self) -> str:
        return f"<ExerciseResponse u{self.user_id} {self.exercise_key} {self.status}>"


class ExerciseResponseRevision(db.Model):
    __tablename__ = "imh_exercise_response_revision"
    __table_args__ = (UniqueConstraint("response_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("imh_exercise_response.id"), nullable=False)
    #: 1, 2, … in save order
    revision: Mapped[int] = mapped_column(nullable=False)
    #: the text as saved at that revision
    body: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[ResponseStatus] = mapped_column(enum_column(ResponseStatus), nullable=False)
    is_shared: Mapped[bool] = mapped_column(nullable=False)
    #: the exercise version at that save
    exercise_id: Mapped[int] = mapped_column(ForeignKey("imh_exercise.id"), nullable=False)
    saved_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    response: Mapped[ExerciseResponse] = relationship(back_populates="revisions")

    def __repr__(self) -> str:
        return f"<ExerciseResponseRevision {self.response_id}#{self.revision}>"


class ResponseFeedback(db.Model):
    __tablename__ = "imh_response_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: a response the learner chose to share
    response_id: Mapped[int] = mapped_column(
        ForeignKey("imh_exercise_response.id"), nullable=False, index=True
    )
    #: the instructor who wrote it
    author_id: Mapped[int] = mapped_column(ForeignKey("imh_user.id"), nullable=False)
    #: rich text, sanitised on save
    body_html: Mapped[str] = mapped_column(Text, nullable=False)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    response: Mapped[ExerciseResponse] = relationship(back_populates="feedback")
    author: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<ResponseFeedback {self.id} on {self.response_id}>"
