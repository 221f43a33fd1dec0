"""Claim, deliver outside a transaction, record once: the protocol the email outbox and the xAPI
queue share.

A queue table has ``id``, ``status``, ``next_attempt_dt``, ``claimed_by``, ``claimed_dt`` and
``attempts``. A worker claims due rows in a short transaction of its own (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL; SQLite's single write lock, taken up front by ``BEGIN IMMEDIATE``),
marking them ``sending`` with its name, so two workers never hold the same row. A claim older
than :data:`~imh_course.rules.outbox.CLAIM_LEASE` is taken over (its worker died mid-send). The
outcome is written only while the worker still holds the claim.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import and_, or_, select, update

from .database import begin_write, locked
from .extensions import db
from .rules.outbox import CLAIM_LEASE


def worker_name() -> str:
    """A name for one worker: host, process and a random part (threads each make their own)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(frozen=True)
class DeliveryQueue:
    """One queue table and its two in-flight statuses."""

    model: Any  # a mapped class with the columns named in the module docstring
    queued: Enum
    sending: Enum

    def claim(self, worker: str, now: datetime, limit: int) -> list[int]:
        """Mark up to ``limit`` due rows as ``sending`` by ``worker`` and commit; their ids."""
        model = self.model
        due = or_(
            and_(model.status == self.queued, model.next_attempt_dt <= now),
            and_(model.status == self.sending, model.claimed_dt < now - CLAIM_LEASE),
        )
        begin_write()  # SQLite: the write lock before the read, so two claims cannot interleave
        try:
            query = select(model.id).where(due).order_by(model.id).limit(limit)
            ids = list(db.session.scalars(locked(query, skip_locked=True)))
            if ids:
                db.session.execute(
                    update(model)
                    .where(model.id.in_(ids))
                    .values(
                        status=self.sending, claimed_by=worker, claimed_dt=now, attempts=model.attempts + 1
                    )
                    .execution_options(synchronize_session=False)
                )
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        return ids

    def finish(self, row_id: int, worker: str, values: dict[str, Any]) -> None:
        """Record an attempt's outcome, only while ``worker`` still holds the claim."""
        model = self.model
        begin_write()
        db.session.execute(
            update(model)
            .where(model.id == row_id, model.claimed_by == worker)
            .values(claimed_by=None, claimed_dt=None, **values)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()


@dataclass
class RunReport:
    """What one pass did: delivered, waiting to retry, given up."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def attempted(self) -> int:
        return self.sent + self.retrying + self.failed

    def add(self, other: RunReport) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
