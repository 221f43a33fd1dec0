"""``flask imh bench seed``: a realistic term at scale (offerings, learners, attendance, progress).

Randomness is seeded, so two runs produce the same data. The certificates reuse one rendered PDF:
they exist to give pages and exports realistic row counts, not to be verified. The writes are
batched Core inserts (:mod:`.bulk`).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from ..extensions import db
from ..models import (
    AttendanceRecord,
    Certificate,
    Course,
    CourseSession,
    Enrolment,
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
from ..security.roles import Role
from .bulk import bump_matrices, insert_rows, new_offering, sync_user_sequence, user_row

LICENSES = ("LCSW", "LMSW", "LMHC", "LCAT", "RN", "Other", None)


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
        offering, meetings = new_offering(course, sessions, index, year, today)
        offering_ids.append(offering.id)

        # an instructor per offering
        instructor_id = user_id
        user_id += 1
        users = [
            user_row(
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
            user_row(u, f"bench-learner-{u}@example.org", f"Learner {u}", password_hash, now)
            for u in learner_ids
        ]
        roles += [{"user_id": u, "role": Role.LEARNER} for u in learner_ids]
        insert_rows(User, iter(users), lambda _n: None)
        insert_rows(UserRole, iter(roles), lambda _n: None)
        insert_rows(LearnerProfile, (_profile_row(u, rng, now) for u in learner_ids), lambda _n: None)
        db.session.execute(
            insert(InstructorAssignment), [{"offering_id": offering.id, "user_id": instructor_id}]
        )
        insert_rows(
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
        totals["attendance"] += insert_rows(
            AttendanceRecord, _attendance(rng, meetings, learner_ids, instructor_id, now), lambda _n: None
        )
        totals["progress"] += insert_rows(
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
        totals["progress"] += insert_rows(
            ExerciseResponse,
            (
                _response_row(u, offering.id, e, rng, now)
                for u in learner_ids
                for e in exercises
                if rng.random() < 0.7
            ),
            lambda _n: None,
        )
        totals["attempts"] += insert_rows(
            QuizAttempt, _attempts(rng, offering.id, learner_ids, quizzes, now), lambda _n: None
        )
        certified = [u for u in learner_ids if rng.random() < 0.5]
        totals["certificates"] += insert_rows(
            Certificate, (_certificate_row(u, offering.id, pdf, now) for u in certified), lambda _n: None
        )
        db.session.flush()
    sync_user_sequence()
    bump_matrices()
    return SeedReport(
        offerings=len(sizes),
        learners=learners,
        largest_offering_id=offering_ids[0],
        sample_offering_id=offering_ids[-1] if len(offering_ids) > 1 else offering_ids[0],
        **totals,
    )


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
