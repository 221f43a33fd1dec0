"""Writing audit events: append-only, hash-chained, in the caller's transaction."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text

from ..extensions import db
from ..models.accounts import User
from ..models.audit import AuditEvent
from ..models.types import utcnow

SYSTEM_ROLE = "system"


@dataclass(frozen=True)
class Actor:
    """Who is acting and in which role (``user`` is None for the system)."""

    user: User | None
    role: str
    ip_address: str | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls(user=None, role=SYSTEM_ROLE)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_digest(fields: dict[str, Any], prev_hash: str) -> str:
    """The chain link: sha256 of the event's canonical JSON followed by the previous hash."""
    return hashlib.sha256((canonical_json(fields) + prev_hash).encode("utf-8")).hexdigest()


def hashed_fields(event: AuditEvent) -> dict[str, Any]:
    """The fields covered by the hash (everything but id and the hashes themselves)."""
    occurred: datetime = event.occurred_dt
    return {
        "occurred_dt": occurred.isoformat(),
        "actor_id": event.actor_id,
        "actor_role": event.actor_role,
        "action": event.action,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "offering_id": event.offering_id,
        "learner_id": event.learner_id,
        "before": event.before,
        "after": event.after,
        "reason": event.reason,
        "ip_address": event.ip_address,
    }


def _lock_chain() -> None:
    """Serialise writers of the chain: PostgreSQL needs a lock, SQLite's BEGIN IMMEDIATE has one."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(735001)"))


def record_event(
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: str | int | None = None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
    offering_id: int | None = None,
    learner_id: int | None = None,
) -> AuditEvent:
    """Append one event to the chain in the current transaction (flushes, never commits)."""
    _lock_chain()
    prev_hash = db.session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)) or ""
    event = AuditEvent(
        occurred_dt=utcnow().replace(microsecond=0),
        actor_id=actor.user.id if actor.user is not None else None,
        actor_role=actor.role,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        offering_id=offering_id,
        learner_id=learner_id,
        before=json.loads(canonical_json(before)) if before is not None else None,
        after=json.loads(canonical_json(after)) if after is not None else None,
        reason=reason,
        ip_address=actor.ip_address,
        prev_hash=prev_hash,
    )
    event.hash = event_digest(hashed_fields(event), prev_hash)
    db.session.add(event)
    db.session.flush()
    return event


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    problem: str


def verify_chain() -> tuple[int, ChainBreak | None]:
    """Recompute every link; returns (events checked, first break or None)."""
    prev = ""
    count = 0
    for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(500):
        count += 1
        if event.prev_hash != prev:
            return count, ChainBreak(event.id, "prev_hash does not match the previous event")
        if event_digest(hashed_fields(event), prev) != event.hash:
            return count, ChainBreak(event.id, "contents do not match the stored hash")
        prev = event.hash
    return count, None
