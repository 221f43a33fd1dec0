"""Writing audit events: append-only, hash-chained, in the caller's transaction.

The chain proves that no event was changed or removed *before* the newest one; removing the
newest events (or all of them) leaves a shorter chain that is still intact. An **anchor** — the
sequence number (event id) and hash of one event, kept outside the database — closes that gap:
``flask imh audit anchor`` prints the head, the security log records it every
``IMH_AUDIT_ANCHOR_EVERY`` events (``audit.anchor``), and ``verify --anchor SEQ:HASH`` fails when
the chain no longer reaches that event with that hash.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy import select, text
from sqlalchemy.orm import Session, SessionTransaction

from ..extensions import db
from ..security import log as security_log
from .accounts import User
from .audit import AuditEvent
from .types import utcnow

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
    prev = db.session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    prev_id, prev_hash = (prev.id, prev.hash) if prev is not None else (0, "")
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
    every = _anchor_every()
    if every and event.id // every > prev_id // every:  # crossed a multiple of N: no extra query
        db.session.info.setdefault(_PENDING_ANCHORS, []).append(Anchor(event.id, event.hash))
    return event


# --- Anchors in the security log -------------------------------------------------------------

_PENDING_ANCHORS = "imh_audit_pending_anchors"
_CONFIRMED_ANCHORS = "imh_audit_confirmed_anchors"


def _anchor_every() -> int:
    """``IMH_AUDIT_ANCHOR_EVERY`` (0 or less: no anchors in the log)."""
    if not has_app_context():
        return 0
    return max(int(current_app.config.get("IMH_AUDIT_ANCHOR_EVERY") or 0), 0)


@sa_event.listens_for(Session, "before_commit")
def _confirm_anchors(session: Session) -> None:
    """Keep only pending anchors whose event is still there (a rolled-back savepoint drops it).

    Runs once per outer commit and queries only when an anchor is pending (every N events).
    """
    if session.in_nested_transaction():
        return
    pending: list[Anchor] = session.info.pop(_PENDING_ANCHORS, [])
    if not pending:
        return
    present = {
        (row.id, row.hash)
        for row in session.execute(
            select(AuditEvent.id, AuditEvent.hash).where(AuditEvent.id.in_([a.seq for a in pending]))
        )
    }
    session.info[_CONFIRMED_ANCHORS] = [a for a in pending if (a.seq, a.hash) in present]


@sa_event.listens_for(Session, "after_commit")
def _log_anchors(session: Session) -> None:
    """Only once the events are committed does the log name them (a rollback never reaches it)."""
    if session.in_nested_transaction():
        return
    for anchor in session.info.pop(_CONFIRMED_ANCHORS, []):
        security_log.audit_anchor(anchor.seq, anchor.hash)


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_anchors(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING_ANCHORS, None)
        session.info.pop(_CONFIRMED_ANCHORS, None)


# --- Verifying ------------------------------------------------------------------------------

_ANCHOR = re.compile(r"(\d{1,18}):([0-9a-f]{64})")


@dataclass(frozen=True)
class Anchor:
    """One event's place in the chain: its sequence number (id) and hash, written ``SEQ:HASH``."""

    seq: int
    hash: str

    @classmethod
    def parse(cls, value: str) -> Anchor:
        """``"123:<64 hex digits>"`` -> Anchor; ValueError saying what is wrong otherwise."""
        match = _ANCHOR.fullmatch(value.strip().lower())
        if match is None or int(match.group(1)) < 1:
            raise ValueError(
                f"{value!r} is not an anchor: expected SEQ:HASH, a positive event number, a colon "
                "and the 64-hex-digit hash (as printed by `flask imh audit anchor`)"
            )
        return cls(int(match.group(1)), match.group(2))

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    problem: str


@dataclass(frozen=True)
class AnchorMiss:
    """An anchor the chain no longer reaches."""

    anchor: Anchor
    problem: str


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken: ChainBreak | None
    #: the newest event (None for an empty trail)
    head: Anchor | None
    #: anchors not reached or with another hash (only checked when the chain is intact)
    missed: tuple[AnchorMiss, ...] = ()

    @property
    def ok(self) -> bool:
        return self.broken is None and not self.missed


def check_chain(anchors: Iterable[Anchor] = ()) -> ChainReport:
    """Recompute every link and check that the chain still reaches every anchor."""
    wanted = {anchor.seq: anchor for anchor in anchors}
    found: dict[int, str] = {}
    prev = ""
    count = 0
    head: Anchor | None = None
    for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(500):
        count += 1
        if event.prev_hash != prev:
            return ChainReport(
                count, ChainBreak(event.id, "prev_hash does not match the previous event"), head
            )
        if event_digest(hashed_fields(event), prev) != event.hash:
            return ChainReport(count, ChainBreak(event.id, "contents do not match the stored hash"), head)
        if event.id in wanted:
            found[event.id] = event.hash
        prev = event.hash
        head = Anchor(event.id, event.hash)
    missed = []
    for seq, anchor in sorted(wanted.items()):
        if seq not in found:
            ends = f"the chain ends at event {head.seq}" if head else "the trail is empty"
            missed.append(AnchorMiss(anchor, f"event {seq} is missing ({ends}): events were removed"))
        elif found[seq] != anchor.hash:
            missed.append(
                AnchorMiss(
                    anchor,
                    f"event {seq} has hash {found[seq][:12]}…, not the anchored {anchor.hash[:12]}…: "
                    "the chain was rewritten from there",
                )
            )
    return ChainReport(count, None, head, tuple(missed))


def verify_chain() -> tuple[int, ChainBreak | None]:
    """Recompute every link; returns (events checked, first break or None)."""
    report = check_chain()
    return report.checked, report.broken


def chain_head() -> Anchor | None:
    """The newest event as an anchor (None for an empty trail)."""
    row = db.session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    return Anchor(row.id, row.hash) if row is not None else None
