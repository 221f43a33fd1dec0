"""The durable outbox: every email the module sends is first a row, written with its cause.

A message row is added in the same transaction as the event that causes it (the enrolment, the
certificate, the reset request), so a rollback sends nothing and a crash after commit loses
nothing: the worker (``flask imh outbox run``) delivers what is queued. Rows are never deleted;
their status tells what happened.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, enum_column, utcnow


class OutboxStatus(StrEnum):
    QUEUED = "queued"  # waiting for its (next) attempt
    SENDING = "sending"  # claimed by one worker; no other worker touches it
    SENT = "sent"  # accepted by the mail server (or written to its file)
    FAILED = "failed"  # given up: permanent error or too many attempts (see last_error)


class OutboxMessage(db.Model):
    __tablename__ = "imh_outbox_message"
    __table_args__ = (Index("ix_imh_outbox_message_due", "status", "next_attempt_dt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: what the message is: password_reset, invitation, certificate_issued, …
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    #: the account it is about and sent to (None for a message to an address only)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("imh_user.id"), nullable=True, index=True)
    #: the one recipient address
    recipient: Mapped[str] = mapped_column(String(254), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    #: the Message-ID header, unique, so a receiving server can recognise a repeat
    message_id: Mapped[str] = mapped_column(String(250), unique=True, nullable=False)
    #: the complete RFC 5322 message; cleared once sent, because it may hold a single-use link
    content: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus), nullable=False, default=OutboxStatus.QUEUED
    )
    #: delivery attempts made so far
    attempts: Mapped[int] = mapped_column(nullable=False, default=0)
    #: not tried before this moment (back-off after a temporary failure)
    next_attempt_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: which worker holds the claim, and since when (a stale claim is taken over)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: why the last attempt failed (kept after a later success, for the record)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    #: smtp or file (where the message went)
    delivered_via: Mapped[str | None] = mapped_column(String(10), nullable=True)
    #: set for messages that must exist once at most (e.g. ``meeting_reminder:<meeting>:<user>``);
    #: unique, so a second run or a concurrent worker cannot queue the same one again
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True, nullable=True)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    sent_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.kind} {self.status}>"
