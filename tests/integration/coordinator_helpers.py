"""Helpers for the coordinator tests: enrol many learners and give them records, row by row.

Rows are inserted directly (fast and explicit) with the same shapes the learner operations write,
so the matrix, the ledgers and certificate issuing all read them as they would read real work.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from imh_course.extensions import db
from imh_course.models import (
    AttendanceMethod,
    AttendanceRecord,
    Attestation,
    CourseSession,
    Enrolment,
    EvaluationReceipt,
    Exercise,
    ExerciseResponse,
    Funding,
    Meeting,
    Offering,
    Quiz,
    QuizAttempt,
    Reading,
    ReadingCompletion,
    ResponseStatus,
)
from imh_course.models.audit_chain import Actor
from imh_course.operations.accounts import ProfileData, create_user
from imh_course.records.ledgers import credit_policy, learner_ledger
from imh_course.rules.credit import AttendanceStatus
from imh_course.security.roles import Role

SECRET_TEXT = "my private reflection about my own ghosts"


def meetings_of(offering_id: int) -> list[Meeting]:
    return list(
        db.session.scalars(
            select(Meeting).where(Meeting.offering_id == offering_id).order_by(Meeting.start_dt)
        )
    )


def current(model: type, offering: Offering) -> list:
    return list(
        db.session.scalars(
            select(model)
            .join(CourseSession, model.session_id == CourseSession.id)
            .where(
                CourseSession.course_id == offering.course_id,
                model.is_current.is_(True),
                model.is_published.is_(True),
            )
        )
    )


def enrol_many(
    offering_id: int,
    count: int,
    *,
    prefix: str = "learner",
    license_type: str | None = "LCSW",
    license_number: str | None = "012345",
    funding: Funding = Funding.FULL_FEE,
    discipline: str = "Social work",
) -> list[int]:
    """``count`` learners (no password) enrolled in the offering; returns their ids. Commits."""
    ids = []
    for n in range(count):
        user = create_user(
            Actor.system(),
            email=f"{prefix}{n}@example.org",
            full_name=f"{prefix.capitalize()} {n:03d}",
            roles=[Role.LEARNER],
            profile=ProfileData(
                certificate_name=f"{prefix.capitalize()} {n:03d}",
                discipline=discipline,
                license_type=license_type,
                license_number=license_number,
            ),
        )
        db.session.add(Enrolment(offering_id=offering_id, user_id=user.id, funding=funding))
        ids.append(user.id)
    db.session.commit()
    return ids


def give_records(
    offering_id: int,
    user_id: int,
    *,
    attended: int = 11,
    late_minutes: int = 0,
    work: bool = True,
    evaluation: bool = True,
    attest: bool = True,
) -> None:
    """Attendance at the first ``attended`` meetings, all independent work, evaluation, attestation."""
    # A live server may have written since this test's session last read (a sign-in records the
    # time); on SQLite a write from a stale read snapshot is refused, so start from a fresh one.
    db.session.rollback()
    offering = db.session.get(Offering, offering_id)
    for meeting in meetings_of(offering_id)[:attended]:
        db.session.add(
            AttendanceRecord(
                meeting_id=meeting.id,
                user_id=user_id,
                status=AttendanceStatus.LATE if late_minutes else AttendanceStatus.PRESENT,
                arrived_dt=meeting.start_dt + timedelta(minutes=late_minutes),
                departed_dt=meeting.end_dt,
                method=AttendanceMethod.INSTRUCTOR,
            )
        )
    if work:
        for reading in current(Reading, offering):
            db.session.add(
                ReadingCompletion(
                    user_id=user_id, offering_id=offering_id, reading_key=reading.key, reading_id=reading.id
                )
            )
        for exercise in current(Exercise, offering):
            db.session.add(
                ExerciseResponse(
                    user_id=user_id,
                    offering_id=offering_id,
                    exercise_key=exercise.key,
                    exercise_id=exercise.id,
                    body=SECRET_TEXT,
                    body_html=f"<p>{SECRET_TEXT}</p>",
                    status=ResponseStatus.SUBMITTED,
                )
            )
        for quiz in current(Quiz, offering):
            db.session.add(
                QuizAttempt(
                    user_id=user_id,
                    offering_id=offering_id,
                    quiz_key=quiz.key,
                    quiz_id=quiz.id,
                    attempt_no=1,
                    answers={},
                    points=1,
                    max_points=1,
                    percent=100,
                    passed=True,
                )
            )
    if evaluation:
        db.session.add(EvaluationReceipt(offering_id=offering_id, user_id=user_id))
    db.session.flush()
    if attest:
        minutes = learner_ledger(offering, user_id, credit_policy(current_app.config)).ce_minutes
        db.session.add(
            Attestation(
                offering_id=offering_id, user_id=user_id, statement="I attest.", ce_minutes_shown=minutes
            )
        )
    db.session.commit()
