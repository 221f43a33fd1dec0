"""Loading the completion matrix: a fixed number of statements per offering, whatever its size.

Statements: 6 for the offering frame (sessions, meetings, readings, exercises, quizzes, approvals),
1 for the learners and 7 for their facts (attendance, reading completions, exercise responses, quiz
attempts, evaluation receipts, attestations, certificates). Only the columns the matrix needs are
selected: never a response's text, never a certificate's PDF. :func:`iter_rows` streams the same
rows chunk by chunk (``yield_per``) for large exports, with the same 7 fact statements per chunk.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import Row, Select, func, select

from ..extensions import db
from ..ledgers import credit_policy
from ..models.accounts import LearnerProfile, User
from ..models.attendance import AttendanceRecord
from ..models.certificates import Attestation, Certificate, EvaluationReceipt
from ..models.curriculum import CourseSession, Exercise, Quiz, Reading
from ..models.offerings import BoardApproval, Enrolment, Meeting, Offering
from ..models.progress import ExerciseResponse, ReadingCompletion
from ..models.quizzes import QuizAttempt
from ..models.types import utcnow
from ..operations.certificates import completion_policy
from ..rules.completion import CompletionPolicy
from ..rules.credit import AttendanceFact, CreditPolicy, MeetingWindow
from ..rules.licenses import Approval
from .matrix import (
    CertificateInfo,
    ItemInfo,
    LearnerFacts,
    LearnerInfo,
    LearnerRow,
    OfferingFrame,
    SessionInfo,
    build_rows,
)

EXPORT_CHUNK = 500


@dataclass(frozen=True)
class Matrix:
    frame: OfferingFrame
    rows: list[LearnerRow]


def policies(config: Mapping[str, Any] | None = None) -> tuple[CreditPolicy, CompletionPolicy]:
    config = current_app.config if config is None else config
    return credit_policy(config), completion_policy(config)


def _items(model: type, session_ids: list[int]) -> tuple[ItemInfo, ...]:
    rows = db.session.execute(
        select(model.key, model.session_id, model.estimated_minutes)
        .where(model.session_id.in_(session_ids), model.is_current.is_(True), model.is_published.is_(True))
        .order_by(model.session_id, model.position)
    )
    return tuple(ItemInfo(key, session_id, minutes) for key, session_id, minutes in rows)


def load_frame(offering: Offering) -> OfferingFrame:
    sessions = tuple(
        SessionInfo(*row)
        for row in db.session.execute(
            select(CourseSession.id, CourseSession.number, CourseSession.title)
            .where(CourseSession.course_id == offering.course_id)
            .order_by(CourseSession.number)
        )
    )
    ids = [s.id for s in sessions]
    meetings = {
        session_id: MeetingWindow(meeting_id, start, end, eligible)
        for meeting_id, session_id, start, end, eligible in db.session.execute(
            select(
                Meeting.id, Meeting.session_id, Meeting.start_dt, Meeting.end_dt, Meeting.is_ce_eligible
            ).where(Meeting.offering_id == offering.id)
        )
    }
    approvals = tuple(
        Approval(*row)
        for row in db.session.execute(
            select(BoardApproval.board, BoardApproval.provider_number, BoardApproval.statement)
            .where(BoardApproval.offering_id == offering.id)
            .order_by(BoardApproval.board)
        )
    )
    return OfferingFrame(
        offering_id=offering.id,
        timezone=offering.timezone,
        sessions=sessions,
        meetings=meetings,
        readings=_items(Reading, ids),
        exercises=_items(Exercise, ids),
        quizzes=_items(Quiz, ids),
        approvals=approvals,
    )


def learner_query(offering_id: int) -> Select[Any]:
    """The enrolled learners' columns, ordered by the name printed on certificates."""
    name = func.coalesce(LearnerProfile.certificate_name, User.full_name)
    return (
        select(
            Enrolment.user_id,
            User.full_name,
            LearnerProfile.certificate_name,
            User.email,
            LearnerProfile.discipline,
            LearnerProfile.license_type,
            LearnerProfile.license_number,
            Enrolment.funding,
            Enrolment.status,
            User.erased_dt,
        )
        .join(User, User.id == Enrolment.user_id)
        .outerjoin(LearnerProfile, LearnerProfile.user_id == User.id)
        .where(Enrolment.offering_id == offering_id)
        .order_by(name, Enrolment.user_id)
    )


def learner_info(row: Row[Any]) -> LearnerInfo:
    uid, full_name, cert_name, email, discipline, license_type, number, funding, status, erased = row
    return LearnerInfo(
        user_id=uid,
        name=cert_name if cert_name and cert_name.strip() else full_name,
        email=email,
        discipline=discipline,
        license_type=license_type,
        license_number=number,
        funding=funding,
        status=status,
        erased=erased is not None,
    )


def _only(query: Select[Any], column: Any, user_ids: Sequence[int] | None) -> Select[Any]:
    return query if user_ids is None else query.where(column.in_(list(user_ids)))


def load_facts(
    offering_id: int, user_ids: Sequence[int] | None = None, *, with_independent: bool = True
) -> LearnerFacts:
    """Every learner's facts in 7 statements (``user_ids`` narrows them to one chunk of learners).

    ``with_independent=False`` skips readings, responses and attempts (4 statements): the CE roster
    needs attendance and certificates only, and those three tables are the largest.
    """
    facts = LearnerFacts()
    attendance = select(
        AttendanceRecord.user_id,
        AttendanceRecord.meeting_id,
        AttendanceRecord.status,
        AttendanceRecord.arrived_dt,
        AttendanceRecord.departed_dt,
    ).join(Meeting, Meeting.id == AttendanceRecord.meeting_id)
    attendance = _only(
        attendance.where(Meeting.offering_id == offering_id), AttendanceRecord.user_id, user_ids
    )
    for uid, meeting_id, status, arrived, departed in db.session.execute(attendance):
        facts.attendance[uid][meeting_id] = AttendanceFact(meeting_id, status, arrived, departed)

    if with_independent:
        _load_independent(facts, offering_id, user_ids)
    _load_outcomes(facts, offering_id, user_ids)
    return facts


def _load_independent(facts: LearnerFacts, offering_id: int, user_ids: Sequence[int] | None) -> None:
    readings = select(
        ReadingCompletion.user_id, ReadingCompletion.reading_key, Reading.estimated_minutes
    ).join(Reading, Reading.id == ReadingCompletion.reading_id)
    readings = _only(
        readings.where(ReadingCompletion.offering_id == offering_id), ReadingCompletion.user_id, user_ids
    )
    for uid, key, minutes in db.session.execute(readings):
        facts.readings[uid][key] = minutes

    responses = select(
        ExerciseResponse.user_id,
        ExerciseResponse.exercise_key,
        ExerciseResponse.status,
        Exercise.estimated_minutes,
    ).join(Exercise, Exercise.id == ExerciseResponse.exercise_id)
    responses = _only(
        responses.where(ExerciseResponse.offering_id == offering_id), ExerciseResponse.user_id, user_ids
    )
    for uid, key, status, minutes in db.session.execute(responses):
        facts.exercises[uid][key] = (status, minutes)

    attempts = (
        select(QuizAttempt.user_id, QuizAttempt.quiz_key, QuizAttempt.passed, Quiz.estimated_minutes)
        .join(Quiz, Quiz.id == QuizAttempt.quiz_id)
        .where(QuizAttempt.offering_id == offering_id)
        .order_by(QuizAttempt.user_id, QuizAttempt.quiz_key, QuizAttempt.attempt_no)
    )
    for uid, key, passed, minutes in db.session.execute(_only(attempts, QuizAttempt.user_id, user_ids)):
        was_passed, kept, tries = facts.quizzes[uid].get(key, (False, 0, 0))
        # A passed quiz counts at the estimate of the version it was first passed on.
        facts.quizzes[uid][key] = (was_passed or passed, kept if was_passed else minutes, tries + 1)


def _load_outcomes(facts: LearnerFacts, offering_id: int, user_ids: Sequence[int] | None) -> None:
    receipts = select(EvaluationReceipt.user_id).where(EvaluationReceipt.offering_id == offering_id)
    facts.evaluated = set(db.session.scalars(_only(receipts, EvaluationReceipt.user_id, user_ids)))
    attestations = select(Attestation.user_id, Attestation.ce_minutes_shown).where(
        Attestation.offering_id == offering_id
    )
    facts.attested_minutes = dict(
        db.session.execute(_only(attestations, Attestation.user_id, user_ids)).all()
    )
    certificates = select(
        Certificate.user_id,
        Certificate.public_id,
        Certificate.version,
        Certificate.kind,
        Certificate.status,
        Certificate.issued_dt,
    ).where(Certificate.offering_id == offering_id)
    for uid, *info in db.session.execute(_only(certificates, Certificate.user_id, user_ids)):
        facts.certificates[uid].append(CertificateInfo(*info))


def load_matrix(
    offering: Offering, config: Mapping[str, Any] | None = None, now: datetime | None = None
) -> Matrix:
    """All learners of ``offering`` in 14 statements, whatever their number."""
    policy, completion = policies(config)
    frame = load_frame(offering)
    learners = [learner_info(row) for row in db.session.execute(learner_query(offering.id))]
    facts = load_facts(offering.id)
    rows = build_rows(
        frame, learners, facts, policy=policy, completion_policy=completion, now=now or utcnow()
    )
    return Matrix(frame=frame, rows=rows)


def iter_rows(
    offering: Offering,
    config: Mapping[str, Any] | None = None,
    *,
    chunk: int | None = None,
    with_independent: bool = True,
) -> Iterator[tuple[OfferingFrame, LearnerRow]]:
    """The matrix rows, streamed ``chunk`` learners at a time (memory bounded by the chunk).

    With ``with_independent=False`` the independent-learning columns of the rows are empty (CE roster).
    """
    chunk = chunk or EXPORT_CHUNK
    policy, completion = policies(config)
    frame = load_frame(offering)
    now = utcnow()
    result = db.session.execute(learner_query(offering.id).execution_options(yield_per=chunk))
    for partition in result.partitions():
        learners = [learner_info(row) for row in partition]
        facts = load_facts(
            offering.id, [learner.user_id for learner in learners], with_independent=with_independent
        )
        for row in build_rows(frame, learners, facts, policy=policy, completion_policy=completion, now=now):
            yield frame, row
