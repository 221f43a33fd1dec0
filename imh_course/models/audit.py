"""The append-only audit trail, hash-chained so tampering is detectable."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class AuditEvent(db.Model):
    __tablename__ = "imh_audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: server time of the change (UTC)
    occurred_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: who acted; NULL for the system (CLI sync, migrations)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("imh_user.id"), nullable=True)
    #: the role the actor acted in, or "system"
    actor_role: Mapped[str] = mapped_column(String(20), nullable=False)
    #: dotted verb, e.g. content.sync, attendance.correct, certificate.issue
    action: Mapped[str] = mapped_column(String(60), nullable=False, index=True)
    #: table-ish name of what changed
    entity_type: Mapped[str] = mapped_column(String(40), nullable=False)
    entity_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    #: offering concerned, for filtering
    offering_id: Mapped[int | None] = mapped_column(nullable=True, index=True)
    #: learner concerned, for filtering
    learner_id: Mapped[int | None] = mapped_column(nullable=True, index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: required for every correction
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    ip_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: hash of the previous event ("" for the first)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    #: sha256 over this event's canonical JSON and prev_hash
    hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action}>"
