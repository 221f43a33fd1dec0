"""Generate a realistic data set quickly: offerings, meetings, learners, attendance, progress.

Rows are written with bulk Core inserts in large batches (the ORM's per-object overhead would
take minutes at 10,000 learners). Randomness is seeded, so two runs produce the same data. The
certificates reuse one rendered PDF: they exist to give pages and exports realistic row counts,
not to be verified.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text

from ..extensions import db
from ..models import (
    AttendanceRecord,
    Attestation,
    BoardApproval,
    Certificate,
    Course,
    CourseSession,
    Enrolment,
    EvaluationReceipt,
    Exercise,
    ExerciseResponse,
    InstructorAssignment,
    LearnerProfile,
    Meeting,
    Offering,
    Quiz,
    QuizAttempt,
    Reading,
    ReadingCompletion,
    User,
    UserRole,
)
from ..models.offerings import DeliveryFormat, Term
from ..operations.offerings import weekly_meetings
from ..rules.licenses import Board
from ..security.roles import Role

BATCH = 5_000
LICENSES = ("LCSW", "LMSW", "LMHC", "LCAT", "RN", "Other", None)
TERMS = (Term.SPRING, Term.SUMMER, Term.FALL)


@dataclass(frozen=True)
class SeedReport:
    offerings: int
    learners: int
    attendance: int
    progress: int
    attempts: int
    certificates: int
    largest_offering_id: int
    sample_offering_id: int


def offering_sizes(learners: int, *, large: int = 1_000, regular: int = 200) -> list[int]:
    """One large cohort (for the 1,000-learner matrix) and the rest in cohorts of ``regular``."""
    sizes: list[int] = []
    remaining = learners
    if remaining >= large + regular:
        sizes.append(large)
        remaining -= large
    while remaining > 0:
        sizes.append(min(regular, remaining))
        remaining -= regular
    return sizes


def _batches(rows: Iterator[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(model: type, rows: Iterator[dict[str, Any]], tick: Callable[[int], None]) -> int:
    count = 0
    for batch in _batches(rows):
        db.session.execute(insert(model), batch)
        count += len(batch)
        tick(len(batch))
    return count


def seed(
    learners: int,
    *,
    password_hash: str,
    today: date | None = None,
    rng_seed: int = 20261123,
    tick: Callable[[int], None] = lambda _n: None,
    one_offering: bool = False,
) -> SeedReport:
    """Add ``learners`` learners in new offerings with a full term of activity (all in one offering
    with ``one_offering``: the 5,000-learner matrix); flushes only."""
    rng = random.Random(rng_seed)
    today = today or date.today()
    course = db.session.scalar(select(Course).order_by(Course.id).limit(1))
    if course is None:
        raise RuntimeError("Load the course content first: flask imh content sync")
    sessions = db.session.scalars(
        select(CourseSession).where(CourseSession.course_id == course.id).order_by(CourseSession.number)
    ).all()
    readings = db.session.scalars(select(Reading).where(Reading.is_current.is_(True))).all()
    exercises = db.session.scalars(select(Exercise).where(Exercise.is_current.is_(True))).all()
    quizzes = db.session.scalars(select(Quiz).where(Quiz.is_current.is_(True))).all()
    start_user = (db.session.scalar(select(func.max(User.id))) or 0) + 1
    start_offering_year = 2000 + (db.session.scalar(select(func.count()).select_from(Offering)) or 0) // 3
    if one_offering:  # added to an existing data set: a year no offering has yet
        start_offering_year = max(
            start_offering_year, (db.session.scalar(select(func.max(Offering.year))) or 0) + 1
        )
    now = datetime.now(UTC)
    pdf = _placeholder_pdf()

    sizes = [learners] if one_offering else offering_sizes(learners)
    user_id = start_user
    offering_ids: list[int] = []
    totals = {"attendance": 0, "progress": 0, "attempts": 0, "certificates": 0}
    for index, size in enumerate(sizes):
        year = start_offering_year + (index // 3)
        offering, meetings = _offering(course, sessions, index, year, today)
        offering_ids.append(offering.id)

        # an instructor per offering
        instructor_id = user_id
        user_id += 1
        users = [
            _user_row(
                instructor_id,
                f"bench-instructor-{instructor_id}@example.org",
                "Bench Instructor",
                password_hash,
                now,
            )
        ]
        roles = [{"user_id": instructor_id, "role": Role.INSTRUCTOR}]
        learner_ids = list(range(user_id, user_id + size))
        user_id += size
        users += [
            _user_row(u, f"bench-learner-{u}@example.org", f"Learner {u}", password_hash, now)
            for u in learner_ids
        ]
        roles += [{"user_id": u, "role": Role.LEARNER} for u in learner_ids]
        _insert(User, iter(users), lambda _n: None)
        _insert(UserRole, iter(roles), lambda _n: None)
        _insert(LearnerProfile, (_profile_row(u, rng, now) for u in learner_ids), lambda _n: None)
        db.session.execute(
            insert(InstructorAssignment), [{"offering_id": offering.id, "user_id": instructor_id}]
        )
        _insert(
            Enrolment,
            (
                {
                    "offering_id": offering.id,
                    "user_id": u,
                    "status": "active",
                    "funding": rng.choice(
                        ["full_fee", "grant_funded", "scholarship", "group_rate", "waived"]
                    ),
                    "enrolled_dt": now,
                }
                for u in learner_ids
            ),
            lambda _n: None,
        )
        tick(size)
        totals["attendance"] += _insert(
            AttendanceRecord, _attendance(rng, meetings, learner_ids, instructor_id, now), lambda _n: None
        )
        totals["progress"] += _insert(
            ReadingCompletion,
            (
                {
                    "user_id": u,
                    "offering_id": offering.id,
                    "reading_key": r.key,
                    "reading_id": r.id,
                    "completed_dt": now,
                }
                for u in learner_ids
                for r in readings
                if rng.random() < 0.8
            ),
            lambda _n: None,
        )
        totals["progress"] += _insert(
            ExerciseResponse,
            (
                _response_row(u, offering.id, e, rng, now)
                for u in learner_ids
                for e in exercises
                if rng.random() < 0.7
            ),
            lambda _n: None,
        )
        totals["attempts"] += _insert(
            QuizAttempt, _attempts(rng, offering.id, learner_ids, quizzes, now), lambda _n: None
        )
        certified = [u for u in learner_ids if rng.random() < 0.5]
        totals["certificates"] += _insert(
            Certificate, (_certificate_row(u, offering.id, pdf, now) for u in certified), lambda _n: None
        )
        db.session.flush()
    _sync_user_sequence()
    _bump_matrices()
    return SeedReport(
        offerings=len(sizes),
        learners=learners,
        largest_offering_id=offering_ids[0],
        sample_offering_id=offering_ids[-1] if len(offering_ids) > 1 else offering_ids[0],
        **totals,
    )


def _offering(
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
    offering, meetings = _offering(course, list(sessions), 0, year, today)
    now = datetime.now(UTC)
    start = (db.session.scalar(select(func.max(User.id))) or 0) + 1
    ids = list(range(start, start + count))
    noop: Callable[[int], None] = lambda _n: None  # noqa: E731
    names = ("Zoë Ñuñez-Ørsted", "Margaret O'Connell", "José Álvarez", "Aisha Bello", "Chloé Dubois")
    _insert(
        User,
        (
            _user_row(i, f"bench-ready-{i}@example.org", f"{names[i % 5]} {i}", password_hash, now)
            for i in ids
        ),
        noop,
    )
    _insert(UserRole, ({"user_id": i, "role": Role.LEARNER} for i in ids), noop)
    _insert(
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
    _insert(
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
    _insert(
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
    _insert(
        EvaluationReceipt,
        ({"offering_id": offering.id, "user_id": i, "submitted_dt": now} for i in ids),
        noop,
    )
    minutes = sum(int((m.end_dt - m.start_dt).total_seconds() // 60) for m in meetings)
    _insert(
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
    _sync_user_sequence()
    _bump_matrices()
    return offering.id


def _user_row(user_id: int, email: str, name: str, password_hash: str, now: datetime) -> dict[str, Any]:
    return {
        "id": user_id,
        "email": email,
        "full_name": name,
        "password_hash": password_hash,
        "session_token": hashlib.sha256(email.encode()).hexdigest()[:32],
        "is_enabled": True,
        "created_dt": now,
    }


def _profile_row(user_id: int, rng: random.Random, now: datetime) -> dict[str, Any]:
    license_type = rng.choice(LICENSES)
    number = (
        f"{rng.randrange(0, 999999):06d}" if license_type in {"LCSW", "LMSW", "LMHC", "LCAT", "RN"} else None
    )
    return {
        "user_id": user_id,
        "certificate_name": f"Learner {user_id}",
        "discipline": "Bench discipline",
        "license_type": license_type,
        "license_number": number,
        "license_state": "NY",
        "updated_dt": now,
    }


def _attendance(
    rng: random.Random, meetings: list[Meeting], learners: list[int], instructor: int, now: datetime
) -> Iterator[dict[str, Any]]:
    for meeting in meetings:
        for user in learners:
            roll = rng.random()
            if roll < 0.08:
                yield {
                    "meeting_id": meeting.id,
                    "user_id": user,
                    "status": "absent",
                    "arrived_dt": None,
                    "departed_dt": None,
                    "method": "instructor",
                    "recorded_by_id": instructor,
                    "created_dt": now,
                    "updated_dt": now,
                }
                continue
            late = roll < 0.2
            arrived = meeting.start_dt + timedelta(minutes=rng.randint(5, 40) if late else 0)
            yield {
                "meeting_id": meeting.id,
                "user_id": user,
                "status": "late" if late else "present",
                "arrived_dt": arrived,
                "departed_dt": meeting.end_dt,
                "method": "code" if roll < 0.6 else "instructor",
                "code_used": "123456" if roll < 0.6 else None,
                "ip_address": "127.0.0.1",
                "recorded_by_id": instructor,
                "created_dt": now,
                "updated_dt": now,
            }


def _response_row(
    user: int, offering: int, exercise: Exercise, rng: random.Random, now: datetime
) -> dict[str, Any]:
    body = "A bench response about serve and return. " * rng.randint(1, 6)
    submitted = rng.random() < 0.85
    return {
        "user_id": user,
        "offering_id": offering,
        "exercise_key": exercise.key,
        "exercise_id": exercise.id,
        "body": body,
        "body_html": f"<p>{body}</p>",
        "status": "submitted" if submitted else "draft",
        "is_shared": rng.random() < 0.3,
        "revision": 1,
        "created_dt": now,
        "updated_dt": now,
        "submitted_dt": now if submitted else None,
    }


def _attempts(
    rng: random.Random, offering: int, learners: list[int], quizzes: list[Quiz], now: datetime
) -> Iterator[dict[str, Any]]:
    for user in learners:
        for quiz in quizzes:
            if rng.random() < 0.15:
                continue
            tries = 2 if rng.random() < 0.25 else 1
            for n in range(1, tries + 1):
                passed = n == tries and rng.random() < 0.9
                yield {
                    "user_id": user,
                    "offering_id": offering,
                    "quiz_key": quiz.key,
                    "quiz_id": quiz.id,
                    "attempt_no": n,
                    "answers": {},
                    "points": 6 if passed else 3,
                    "max_points": 6,
                    "percent": 100 if passed else 50,
                    "passed": passed,
                    "submitted_dt": now,
                }


def _certificate_row(user: int, offering: int, pdf: bytes, now: datetime) -> dict[str, Any]:
    facts = {"bench": True, "user": user, "offering": offering}
    digest = hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()
    return {
        "public_id": f"BENCH-{offering}-{user}",
        "offering_id": offering,
        "user_id": user,
        "version": 1,
        "kind": "ce",
        "facts": facts,
        "facts_hash": digest,
        "pdf": pdf,
        "status": "valid",
        "issued_dt": now,
    }


def _placeholder_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Benchmark certificate placeholder")
    return bytes(pdf.output())


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
    _insert(
        User,
        (_user_row(i, e, f"{prefix} {i}", password_hash, now) for i, e in zip(ids, emails, strict=True)),
        noop,
    )
    _insert(UserRole, ({"user_id": i, "role": Role.LEARNER} for i in ids), noop)
    _insert(
        LearnerProfile,
        ({"user_id": i, "certificate_name": f"{prefix} {i}", "updated_dt": now} for i in ids),
        noop,
    )
    _insert(
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
    _sync_user_sequence()
    _bump_matrices()
    return emails


def _bump_matrices() -> None:
    """The bulk inserts are Core statements, unseen by the matrix's flush hook: bump it here."""
    from ..reports.matrix_snapshot import bump_matrix_revision

    bump_matrix_revision()


def _sync_user_sequence() -> None:
    """User ids are inserted explicitly; on PostgreSQL move the id sequence past them, or the next
    account created the normal way (a coordinator, a sign-up) would collide with a seeded one."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            text("SELECT setval(pg_get_serial_sequence('imh_user', 'id'), (SELECT max(id) FROM imh_user))")
        )


def newest_offering_id() -> int:
    """The most recently created offering (the last one ``seed`` made)."""
    offering_id = db.session.scalar(select(func.max(Offering.id)))
    if offering_id is None:
        raise RuntimeError("No offering yet: run flask imh bench seed first")
    return offering_id
