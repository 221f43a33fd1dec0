"""The xAPI queue: every statement for the Learning Record Store is first a row, written with its cause.

Like the email outbox (:mod:`imh_course.models.outbox`): the row is added in the same transaction
as the event (attendance, a completed reading, a quiz attempt, a certificate), so a rollback sends
nothing and a crash after commit loses nothing; ``flask imh xapi run`` delivers what is queued.
The statement's own id (UUID) is unique here and at the LRS, so a retry never stores it twice.
Rows are never deleted; their status tells what happened.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, enum_column, utcnow


class XapiStatus(StrEnum):
    QUEUED = "queued"  # waiting for its (next) attempt
    SENDING = "sending"  # claimed by one worker; no other worker touches it
    SENT = "sent"  # stored by the LRS (or it already held this very statement)
    FAILED = "failed"  # the LRS refused the statement itself (400/409): kept for a person to look at


class XapiStatement(db.Model):
    __tablename__ = "imh_xapi_statement"
    __table_args__ = (Index("ix_imh_xapi_statement_due", "status", "next_attempt_dt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the statement's id (UUID v5 of the event's natural key): the same at every retry
    statement_id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    #: attended, completed, submitted, answered, passed, earned, voided
    verb: Mapped[str] = mapped_column(String(20), nullable=False)
    #: what the statement is about (``attendance:<record id>``, ``certificate:<id>`` …), to find
    #: the statement a correction or a revocation voids
    subject: Mapped[str] = mapped_column(String(120), nullable=False, index=True)
    #: the learner it is about
    user_id: Mapped[int | None] = mapped_column(ForeignKey("imh_user.id"), nullable=True, index=True)
    #: the statement as JSON, exactly as sent (the address only as its sha1; never exercise text)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[XapiStatus] = mapped_column(
        enum_column(XapiStatus), nullable=False, default=XapiStatus.QUEUED
    )
    #: delivery attempts made so far
    attempts: Mapped[int] = mapped_column(nullable=False, default=0)
    #: not tried before this moment (back-off while the LRS is down)
    next_attempt_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: which worker holds the claim, and since when (a stale claim is taken over)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: why the last attempt failed (kept after a later success, for the record)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    sent_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    def __repr__(self) -> str:
        return f"<XapiStatement {self.id} {self.verb} {self.status}>"
