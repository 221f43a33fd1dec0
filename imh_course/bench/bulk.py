"""The bulk writes under the benchmark data: batched Core inserts, user rows, new offerings.

Rows are written with bulk Core inserts in large batches (the ORM's per-object overhead would
take minutes at 10,000 learners). Core inserts bypass the ORM's hooks and explicit ids bypass the
id sequence, so every generator ends with :func:`sync_user_sequence` and :func:`bump_matrices`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select, text

from ..extensions import db
from ..models import BoardApproval, Course, CourseSession, Meeting, Offering
from ..models.offerings import DeliveryFormat, Term
from ..operations.offerings import weekly_meetings
from ..rules.licenses import Board

BATCH = 5_000
TERMS = (Term.SPRING, Term.SUMMER, Term.FALL)


def _batches(rows: Iterator[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def insert_rows(model: type, rows: Iterator[dict[str, Any]], tick: Callable[[int], None]) -> int:
    count = 0
    for batch in _batches(rows):
        db.session.execute(insert(model), batch)
        count += len(batch)
        tick(len(batch))
    return count


def user_row(user_id: int, email: str, name: str, password_hash: str, now: datetime) -> dict[str, Any]:
    return {
        "id": user_id,
        "email": email,
        "full_name": name,
        "password_hash": password_hash,
        "session_token": hashlib.sha256(email.encode()).hexdigest()[:32],
        "is_enabled": True,
        "created_dt": now,
    }


def new_offering(
    course: Course, sessions: list[CourseSession], index: int, year: int, today: date
) -> tuple[Offering, list[Meeting]]:
    """A new offering with both board approvals and its 11 weekly meetings, the last a week ago."""
    offering = Offering(
        course_id=course.id,
        term=TERMS[index % 3],
        year=year,
        format=DeliveryFormat.LIVE_ONLINE if index % 2 else DeliveryFormat.IN_PERSON,
        location="Bench location",
        meeting_url=None,
        timezone="America/New_York",
    )
    offering.approvals = [
        BoardApproval(board=Board.SOCIAL_WORK, provider_number="SW-0000", statement="Bench approval (SW)."),
        BoardApproval(
            board=Board.MENTAL_HEALTH, provider_number="MHC-0000", statement="Bench approval (MHC)."
        ),
    ]
    db.session.add(offering)
    db.session.flush()
    first = today - timedelta(weeks=12)
    slots = weekly_meetings(first, time(12, 0), 90, "America/New_York", len(sessions))
    db.session.execute(
        insert(Meeting),
        [
            {
                "offering_id": offering.id,
                "session_id": s.id,
                "start_dt": b,
                "end_dt": e,
                "is_ce_eligible": True,
            }
            for s, (b, e) in zip(sessions, slots, strict=True)
        ],
    )
    meetings = db.session.scalars(
        select(Meeting).where(Meeting.offering_id == offering.id).order_by(Meeting.start_dt)
    ).all()
    return offering, list(meetings)


def bump_matrices() -> None:
    """The bulk inserts are Core statements, unseen by the matrix's flush hook: bump it here."""
    from ..reports.matrix_snapshot import bump_matrix_revision

    bump_matrix_revision()


def sync_user_sequence() -> None:
    """User ids are inserted explicitly; on PostgreSQL move the id sequence past them, or the next
    account created the normal way (a coordinator, a sign-up) would collide with a seeded one."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            text("SELECT setval(pg_get_serial_sequence('imh_user', 'id'), (SELECT max(id) FROM imh_user))")
        )
