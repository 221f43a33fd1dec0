"""``flask imh bench ready|learners``: one cohort made for one timing (a bulk issue, a first attempt).

Unlike :mod:`.seed`'s term, these learners are uniform: all due a CE certificate, or all without
any activity yet.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from ..extensions import db
from ..models import (
    AttendanceRecord,
    Attestation,
    Course,
    CourseSession,
    Enrolment,
    EvaluationReceipt,
    LearnerProfile,
    Offering,
    User,
    UserRole,
)
from ..security.roles import Role
from .bulk import bump_matrices, insert_rows, new_offering, sync_user_sequence, user_row


def ready_for_certificates(count: int, *, password_hash: str, today: date | None = None) -> int:
    """A new offering whose ``count`` learners are all due a CE certificate and have none yet:
    LCSW with a licence number, present at every meeting from start to end, evaluation submitted,
    attendance attested with the CE minutes they have. For timing a bulk issue; flushes only.
    Returns the offering id."""
    today = today or date.today()
    course = db.session.scalar(select(Course).order_by(Course.id).limit(1))
    if course is None:
        raise RuntimeError("Load the course content first: flask imh content sync")
    sessions = db.session.scalars(
        select(CourseSession).where(CourseSession.course_id == course.id).order_by(CourseSession.number)
    ).all()
    year = (db.session.scalar(select(func.max(Offering.year))) or 1999) + 1  # (course, term, year) is unique
    offering, meetings = new_offering(course, list(sessions), 0, year, today)
    now = datetime.now(UTC)
    start = (db.session.scalar(select(func.max(User.id))) or 0) + 1
    ids = list(range(start, start + count))
    noop: Callable[[int], None] = lambda _n: None  # noqa: E731
    names = ("Zoë Ñuñez-Ørsted", "Margaret O'Connell", "José Álvarez", "Aisha Bello", "Chloé Dubois")
    insert_rows(
        User,
        (user_row(i, f"bench-ready-{i}@example.org", f"{names[i % 5]} {i}", password_hash, now) for i in ids),
        noop,
    )
    insert_rows(UserRole, ({"user_id": i, "role": Role.LEARNER} for i in ids), noop)
    insert_rows(
        LearnerProfile,
        (
            {
                "user_id": i,
                "certificate_name": f"{names[i % 5]} {i}",
                "discipline": "Social work",
                "license_type": "LCSW",
                "license_number": f"{i % 1_000_000:06d}",
                "license_state": "NY",
                "updated_dt": now,
            }
            for i in ids
        ),
        noop,
    )
    insert_rows(
        Enrolment,
        (
            {
                "offering_id": offering.id,
                "user_id": i,
                "status": "active",
                "funding": "full_fee",
                "enrolled_dt": now,
            }
            for i in ids
        ),
        noop,
    )
    insert_rows(
        AttendanceRecord,
        (
            {
                "meeting_id": m.id,
                "user_id": i,
                "status": "present",
                "arrived_dt": m.start_dt,
                "departed_dt": m.end_dt,
                "method": "instructor",
                "created_dt": now,
                "updated_dt": now,
            }
            for m in meetings
            for i in ids
        ),
        noop,
    )
    insert_rows(
        EvaluationReceipt,
        ({"offering_id": offering.id, "user_id": i, "submitted_dt": now} for i in ids),
        noop,
    )
    minutes = sum(int((m.end_dt - m.start_dt).total_seconds() // 60) for m in meetings)
    insert_rows(
        Attestation,
        (
            {
                "offering_id": offering.id,
                "user_id": i,
                "statement": "I attest that the attendance recorded for me is accurate.",
                "ce_minutes_shown": minutes,
                "attested_dt": now,
            }
            for i in ids
        ),
        noop,
    )
    db.session.flush()
    sync_user_sequence()
    bump_matrices()
    return offering.id


def fresh_learners(offering_id: int, count: int, *, prefix: str, password_hash: str) -> list[str]:
    """Add ``count`` learners enrolled in ``offering_id`` with no activity yet; flushes only.

    For timings and load tests that must start from a clean slate (first quiz attempt, first
    reading completion). E-mails are ``{prefix}-{user id}@example.org``; returns them in order.
    """
    now = datetime.now(UTC)
    start = (db.session.scalar(select(func.max(User.id))) or 0) + 1
    ids = list(range(start, start + count))
    emails = [f"{prefix}-{i}@example.org" for i in ids]
    noop: Callable[[int], None] = lambda _n: None  # noqa: E731
    insert_rows(
        User,
        (user_row(i, e, f"{prefix} {i}", password_hash, now) for i, e in zip(ids, emails, strict=True)),
        noop,
    )
    insert_rows(UserRole, ({"user_id": i, "role": Role.LEARNER} for i in ids), noop)
    insert_rows(
        LearnerProfile,
        ({"user_id": i, "certificate_name": f"{prefix} {i}", "updated_dt": now} for i in ids),
        noop,
    )
    insert_rows(
        Enrolment,
        (
            {
                "offering_id": offering_id,
                "user_id": i,
                "status": "active",
                "funding": "full_fee",
                "enrolled_dt": now,
            }
            for i in ids
        ),
        noop,
    )
    db.session.flush()
    sync_user_sequence()
    bump_matrices()
    return emails


def newest_offering_id() -> int:
    """The most recently created offering (the last one ``seed`` made)."""
    offering_id = db.session.scalar(select(func.max(Offering.id)))
    if offering_id is None:
        raise RuntimeError("No offering yet: run flask imh bench seed first")
    return offering_id
