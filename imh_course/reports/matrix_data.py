"""Loading the completion matrix: a fixed number of statements, whatever the number of learners.

Statements: 6 for the offering frames (sessions, readings, exercises, quizzes, meetings, approvals;
for any number of offerings), 1 for the learners (with their evaluation receipt and attestation)
and 5 for their facts (attendance, reading completions, submitted exercises, quiz attempts,
certificates). Only the columns the matrix needs are selected: never a response's text, never a
certificate's PDF. The rows are read as plain Core tuples (no ORM layer per row) and handed to
``matrix_facts.LearnerFacts``; attendance values are decoded once per distinct record.

:func:`iter_offering_rows` streams the rows of one or many offerings chunk by chunk (``yield_per``),
with the same fact statements per chunk, so an export of every offering takes a number of
statements that grows with its learners ÷ the chunk size, not with the number of offerings. The CE
roster reads 2 per chunk (attendance and certificates), plus 3 in a chunk holding learners whose
certificate of completion turns on their independent work (:func:`load_independent`: those
learners' readings, responses and quiz attempts only).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from itertools import groupby
from operator import itemgetter
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Result, Row, Select, bindparam, case, func, select, type_coerce
from sqlalchemy.types import NullType

from ..extensions import db
from ..ledgers import credit_policy
from ..models.accounts import LearnerProfile, User
from ..models.attendance import AttendanceRecord
from ..models.certificates import Attestation, Certificate, EvaluationReceipt
from ..models.curriculum import CourseSession, Exercise, Quiz, Reading
from ..models.offerings import BoardApproval, Enrolment, Meeting, Offering
from ..models.progress import ExerciseResponse, ReadingCompletion, ResponseStatus
from ..models.quizzes import QuizAttempt
from ..models.types import utcnow
from ..operations.certificates import completion_policy
from ..rules.completion import CompletionPolicy
from ..rules.credit import CreditPolicy, MeetingWindow
from ..rules.licenses import Approval
from .matrix import (
    ItemInfo,
    LearnerFacts,
    LearnerInfo,
    LearnerRow,
    OfferingFrame,
    SessionInfo,
    build_rows,
    decided_by_completion,
)

EXPORT_CHUNK = 500
_BATCH = 100  # rows fetched at a time by _stream (fewer live rows: see _stream)


@dataclass(frozen=True)
class Matrix:
    frame: OfferingFrame
    rows: list[LearnerRow]


def policies(config: Mapping[str, Any] | None = None) -> tuple[CreditPolicy, CompletionPolicy]:
    config = current_app.config if config is None else config
    return credit_policy(config), completion_policy(config)


def _execute(statement: Select[Any], params: Mapping[str, Any] | None = None) -> Result[Any]:
    """Run a column query on the session's connection as plain Core: rows are tuples, without the
    ORM's per-row work (a quarter of the time on 10,000s of rows). Pending changes are flushed
    first, as the session's own ``execute`` would."""
    db.session.flush()
    return db.session.connection().execute(statement, params)


def _stream(statement: Select[Any], params: Mapping[str, Any] | None = None) -> Iterator[Row[Any]]:
    """The rows of a large fact query, fetched a batch at a time (``fetchmany`` in C).

    Rows are let go batch by batch rather than held all at once: 45,000 live rows survive the
    garbage collector's young generations and can set off a full collection of the process (tens
    of ms with the whole app in memory) in the middle of the request.
    """
    for batch in _execute(statement, params).partitions(_BATCH):
        yield from batch


# --- frames -------------------------------------------------------------------------------------------
def _items(model: type, session_ids: list[int]) -> dict[int, list[ItemInfo]]:
    found: dict[int, list[ItemInfo]] = defaultdict(list)
    for key, session_id, minutes in _execute(
        select(model.key, model.session_id, model.estimated_minutes)
        .where(model.session_id.in_(session_ids), model.is_current.is_(True), model.is_published.is_(True))
        .order_by(model.session_id, model.position)
    ):
        found[session_id].append(ItemInfo(key, session_id, minutes))
    return found


def load_frames(offerings: Sequence[Offering]) -> dict[int, OfferingFrame]:
    """The frame of each offering (by id) in 6 statements, however many offerings there are."""
    course_ids = sorted({o.course_id for o in offerings})
    offering_ids = [o.id for o in offerings]
    sessions: dict[int, list[SessionInfo]] = defaultdict(list)
    for course_id, *info in _execute(
        select(CourseSession.course_id, CourseSession.id, CourseSession.number, CourseSession.title)
        .where(CourseSession.course_id.in_(course_ids))
        .order_by(CourseSession.course_id, CourseSession.number)
    ):
        sessions[course_id].append(SessionInfo(*info))
    ids = [s.id for course in sessions.values() for s in course]
    items = {model: _items(model, ids) for model in (Reading, Exercise, Quiz)}
    meetings: dict[int, dict[int, MeetingWindow]] = defaultdict(dict)
    for offering_id, session_id, *window in _execute(
        select(
            Meeting.offering_id,
            Meeting.session_id,
            Meeting.id,
            Meeting.start_dt,
            Meeting.end_dt,
            Meeting.is_ce_eligible,
        ).where(Meeting.offering_id.in_(offering_ids))
    ):
        meetings[offering_id][session_id] = MeetingWindow(*window)
    approvals: dict[int, list[Approval]] = defaultdict(list)
    for offering_id, *approval in _execute(
        select(
            BoardApproval.offering_id,
            BoardApproval.board,
            BoardApproval.provider_number,
            BoardApproval.statement,
        )
        .where(BoardApproval.offering_id.in_(offering_ids))
        .order_by(BoardApproval.offering_id, BoardApproval.board)
    ):
        approvals[offering_id].append(Approval(*approval))

    def of(model: type, course: list[SessionInfo]) -> tuple[ItemInfo, ...]:
        return tuple(item for s in course for item in items[model].get(s.id, ()))

    frames = {}
    for offering in offerings:
        course = sessions.get(offering.course_id, [])
        frames[offering.id] = OfferingFrame(
            offering_id=offering.id,
            timezone=offering.timezone,
            sessions=tuple(course),
            meetings=meetings.get(offering.id, {}),
            readings=of(Reading, course),
            exercises=of(Exercise, course),
            quizzes=of(Quiz, course),
            approvals=tuple(approvals.get(offering.id, ())),
        )
    return frames


def load_frame(offering: Offering) -> OfferingFrame:
    return load_frames([offering])[offering.id]


# --- learners -------------------------------------------------------------------------------------------
def learner_query(*offering_ids: int) -> Select[Any]:
    """The enrolled learners' columns, with whether they submitted the evaluation and the CE minutes
    they attested; by offering (in the order given), then by the name printed on certificates."""
    name = func.coalesce(LearnerProfile.certificate_name, User.full_name)
    query = (
        select(
            Enrolment.offering_id,
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
            EvaluationReceipt.id,
            Attestation.ce_minutes_shown,
        )
        .join(User, User.id == Enrolment.user_id)
        .outerjoin(LearnerProfile, LearnerProfile.user_id == User.id)
        # Both are unique per (offering, learner): the joins add columns, never rows.
        .outerjoin(
            EvaluationReceipt,
            (EvaluationReceipt.offering_id == Enrolment.offering_id)
            & (EvaluationReceipt.user_id == Enrolment.user_id),
        )
        .outerjoin(
            Attestation,
            (Attestation.offering_id == Enrolment.offering_id) & (Attestation.user_id == Enrolment.user_id),
        )
    )
    if len(offering_ids) == 1:
        return query.where(Enrolment.offering_id == offering_ids[0]).order_by(name, Enrolment.user_id)
    rank = case({oid: i for i, oid in enumerate(offering_ids)}, value=Enrolment.offering_id)
    return query.where(Enrolment.offering_id.in_(offering_ids)).order_by(rank, name, Enrolment.user_id)


def learner_info(row: Row[Any] | Sequence[Any]) -> LearnerInfo:
    (
        _offering,
        uid,
        full_name,
        cert_name,
        email,
        discipline,
        license_type,
        number,
        funding,
        status,
        erased,
        *_,
    ) = row
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


# --- facts ------------------------------------------------------------------------------------------------
def _raw(column: Any) -> ColumnElement[Any]:
    """``column`` as the database returns it (no per-row conversion): see :func:`_decoder`."""
    return type_coerce(column, NullType())


def _decoder(*columns: Any) -> Callable[..., tuple[Any, ...]]:
    """Convert raw values of ``columns`` as their types would (their own result processors, e.g.
    text → aware UTC datetime on SQLite, text → enum), one record's values at a time: the caller
    decodes each distinct record once instead of every value of every row."""
    dialect = db.session.get_bind().dialect
    processors = [column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns]

    def decode(*values: Any) -> tuple[Any, ...]:
        return tuple(
            value if process is None else process(value)
            for process, value in zip(processors, values, strict=True)
        )

    return decode


def _scope(
    query: Select[Any],
    offering: Any,
    user: Any,
    offering_ids: list[int],
    user_ids: list[int] | None,
    *order: Any,
) -> Select[Any]:
    """Narrow ``query`` to the offerings (and learners); rows of several offerings come ordered by
    offering (for :func:`_by_offering`), then by ``order``."""
    if len(offering_ids) == 1:
        query = query.where(offering == offering_ids[0])
    else:
        query = query.where(offering.in_(offering_ids)).order_by(offering)
    query = query if user_ids is None else query.where(user.in_(user_ids))
    return query.order_by(*order) if order else query


def _by_offering(
    rows: Iterable[Row[Any]], facts: Mapping[int, LearnerFacts]
) -> Iterator[tuple[LearnerFacts, Iterable[Row[Any]]]]:
    """Route rows whose first column is the offering id (and, for several offerings, ordered by it)
    to that offering's facts."""
    if len(facts) == 1:
        yield next(iter(facts.values())), rows
        return
    for offering_id, group in groupby(rows, key=itemgetter(0)):
        if offering_id in facts:
            yield facts[offering_id], group


def _kept(
    rows: Iterable[Row[Any]], facts: Mapping[int, LearnerFacts], keep: Mapping[int, Container[int]]
) -> Iterator[tuple[LearnerFacts, Iterable[Row[Any]]]]:
    """Route rows (offering id, user id, …) ordered by learner, then offering, to the facts of their
    offering, one learner's rows at a time: only those of the ``keep`` learners of each offering (a
    learner kept in one offering may be enrolled in another)."""
    for (offering_id, user_id), mine in groupby(rows, key=itemgetter(0, 1)):
        if user_id in keep.get(offering_id, ()):
            yield facts[offering_id], mine


def load_facts(
    frames: Mapping[int, OfferingFrame],
    policy: CreditPolicy,
    user_ids: Sequence[int] | None = None,
    *,
    with_independent: bool = True,
) -> dict[int, LearnerFacts]:
    """The facts of every learner of ``frames``' offerings (``user_ids`` narrows them to one chunk of
    learners): attendance and certificates, plus independent work unless ``with_independent`` is
    False (the three largest tables are skipped: the CE roster reads them for a few learners only,
    with :func:`load_independent`). One statement per table, whatever the number of offerings and
    learners.
    """
    facts = {offering_id: LearnerFacts(frame, policy) for offering_id, frame in frames.items()}
    offering_ids = sorted(frames)
    users = None if user_ids is None else list(user_ids)
    status, arrived, departed = (
        AttendanceRecord.status,
        AttendanceRecord.arrived_dt,
        AttendanceRecord.departed_dt,
    )
    # By the frames' meeting ids (the attendance index), not by the meetings' offering: PostgreSQL
    # would otherwise scan the whole table when its statistics are behind the data.
    meeting_ids = sorted(w.meeting_id for frame in frames.values() for w in frame.meetings.values())
    attendance = (
        select(
            Meeting.offering_id,
            AttendanceRecord.user_id,
            AttendanceRecord.meeting_id,
            _raw(status),
            _raw(arrived),
            _raw(departed),
        )
        .join(Meeting, Meeting.id == AttendanceRecord.meeting_id)
        .where(AttendanceRecord.meeting_id.in_(meeting_ids))
    )
    if len(offering_ids) > 1:
        attendance = attendance.order_by(Meeting.offering_id)
    if users is not None:
        attendance = attendance.where(AttendanceRecord.user_id.in_(users))
    decode = _decoder(status, arrived, departed)
    for mine, rows in _by_offering(_stream(attendance), facts):
        mine.add_attendance(rows, decode)

    if with_independent:
        _load_independent(facts, offering_ids, users)

    certificates = select(
        Certificate.offering_id,
        Certificate.user_id,
        Certificate.public_id,
        Certificate.version,
        Certificate.kind,
        Certificate.status,
        Certificate.issued_dt,
    )
    certificates = _scope(certificates, Certificate.offering_id, Certificate.user_id, offering_ids, users)
    for mine, rows in _by_offering(_stream(certificates), facts):
        mine.add_certificates(rows)
    return facts


def load_independent(facts: Mapping[int, LearnerFacts], wanted: Mapping[int, Collection[int]]) -> None:
    """Add the independent work of the ``wanted`` learners (offering id -> user ids) to the facts of
    their offerings: the same 3 statements whatever their number, none when nobody is wanted. Only
    their rows are read, and only their tallies change, even when one of them is also enrolled in
    another offering of the chunk."""
    keep = {offering_id: set(ids) for offering_id, ids in wanted.items() if ids}
    if not keep:
        return
    params = {"users": sorted(set().union(*keep.values())), "offerings": sorted(keep)}
    readings, responses, attempts = _learners_work()
    for mine, rows in _kept(_stream(readings, params), facts, keep):
        mine.add_readings(rows)
    for mine, rows in _kept(_stream(responses, params), facts, keep):
        mine.add_responses(rows)
    for mine, rows in _kept(_stream(attempts, params), facts, keep):
        mine.add_attempts(rows)


@cache
def _learners_work() -> tuple[Select[Any], Select[Any], Select[Any]]:
    """The statements of :func:`load_independent`, built once (their parameters: the learners and their
    offerings): built for each chunk, statements leave enough garbage to set off a full collection of
    a large process. Rows are found by learner, through the tables' unique indexes (learner, offering,
    …): ordered by offering, the planner would read every row of the offerings instead."""

    def by_learner(query: Select[Any], model: Any, *order: Any) -> Select[Any]:
        users, offerings = bindparam("users", expanding=True), bindparam("offerings", expanding=True)
        return query.where(model.user_id.in_(users), model.offering_id.in_(offerings)).order_by(
            model.user_id, model.offering_id, *order
        )

    return (
        by_learner(_readings(), ReadingCompletion),
        by_learner(_responses(), ExerciseResponse),
        by_learner(_attempts(), QuizAttempt, QuizAttempt.quiz_key, QuizAttempt.attempt_no),
    )


def _readings() -> Select[Any]:
    """(offering id, user id, reading key, minutes of the version read) of completed readings."""
    return select(
        ReadingCompletion.offering_id,
        ReadingCompletion.user_id,
        ReadingCompletion.reading_key,
        Reading.estimated_minutes,
    ).join(Reading, Reading.id == ReadingCompletion.reading_id)


def _responses() -> Select[Any]:
    """(offering id, user id, exercise key, minutes) of submitted responses."""
    return (
        select(
            ExerciseResponse.offering_id,
            ExerciseResponse.user_id,
            ExerciseResponse.exercise_key,
            Exercise.estimated_minutes,
        )
        .join(Exercise, Exercise.id == ExerciseResponse.exercise_id)
        .where(ExerciseResponse.status == ResponseStatus.SUBMITTED)  # drafts count for nothing
    )


def _attempts() -> Select[Any]:
    """(offering id, user id, quiz key, passed, minutes) of quiz attempts."""
    return select(
        QuizAttempt.offering_id,
        QuizAttempt.user_id,
        QuizAttempt.quiz_key,
        QuizAttempt.passed,
        Quiz.estimated_minutes,
    ).join(Quiz, Quiz.id == QuizAttempt.quiz_id)


def _load_independent(
    facts: dict[int, LearnerFacts], offering_ids: list[int], users: list[int] | None
) -> None:
    readings = _scope(
        _readings(), ReadingCompletion.offering_id, ReadingCompletion.user_id, offering_ids, users
    )
    for mine, rows in _by_offering(_stream(readings), facts):
        mine.add_readings(rows)

    responses = _scope(
        _responses(), ExerciseResponse.offering_id, ExerciseResponse.user_id, offering_ids, users
    )
    for mine, rows in _by_offering(_stream(responses), facts):
        mine.add_responses(rows)

    attempts = _scope(
        _attempts(),
        QuizAttempt.offering_id,
        QuizAttempt.user_id,
        offering_ids,
        users,
        QuizAttempt.user_id,
        QuizAttempt.quiz_key,
        QuizAttempt.attempt_no,
    )
    for mine, rows in _by_offering(_stream(attempts), facts):
        mine.add_attempts(rows)


def _add_outcomes(facts: LearnerFacts, rows: Iterable[Sequence[Any]]) -> None:
    """Evaluation receipts and attestations, from the learner rows' last two columns."""
    for row in rows:
        if row[11] is not None:
            facts.evaluated.add(row[1])
        if row[12] is not None:
            facts.attested_minutes[row[1]] = row[12]


# --- rows ---------------------------------------------------------------------------------------------------
def load_matrix(
    offering: Offering, config: Mapping[str, Any] | None = None, now: datetime | None = None
) -> Matrix:
    """All learners of ``offering`` in 12 statements, whatever their number."""
    policy, completion = policies(config)
    frames = load_frames([offering])
    learners = _execute(learner_query(offering.id)).all()
    facts = load_facts(frames, policy)[offering.id]
    _add_outcomes(facts, learners)
    rows = build_rows(
        frames[offering.id],
        [learner_info(row) for row in learners],
        facts,
        policy=policy,
        completion_policy=completion,
        now=now or utcnow(),
    )
    return Matrix(frame=frames[offering.id], rows=rows)


def learner_row(
    offering: Offering, user_id: int, config: Mapping[str, Any] | None = None
) -> tuple[OfferingFrame, LearnerRow] | None:
    """One enrolled learner's row (same rules as the matrix), or None when not enrolled."""
    policy, completion = policies(config)
    enrolled = _execute(learner_query(offering.id).where(Enrolment.user_id == user_id)).all()
    if not enrolled:
        return None
    frames = load_frames([offering])
    facts = load_facts(frames, policy, [user_id])[offering.id]
    _add_outcomes(facts, enrolled)
    frame = frames[offering.id]
    rows = build_rows(
        frame, [learner_info(enrolled[0])], facts, policy=policy, completion_policy=completion, now=utcnow()
    )
    return frame, rows[0]


def iter_offering_rows(
    offerings: Sequence[Offering],
    config: Mapping[str, Any] | None = None,
    *,
    chunk: int | None = None,
    with_independent: bool = True,
) -> Iterator[tuple[Offering, OfferingFrame, LearnerRow]]:
    """The matrix rows of ``offerings``, in their order, streamed ``chunk`` learners at a time.

    Memory is bounded by the chunk, whatever the number of learners and offerings; a chunk may span
    offerings. With ``with_independent=False`` (CE roster) the independent-learning columns are empty,
    except for the learners whose certificate of completion turns on that work
    (:func:`matrix.decided_by_completion`): their work is read and their rows are the full ones, so
    every row's certificate eligibility is the completion matrix's.
    """
    if not offerings:
        return
    chunk = chunk or EXPORT_CHUNK
    policy, completion = policies(config)
    by_id = {offering.id: offering for offering in offerings}
    frames = load_frames(offerings)
    now = utcnow()
    result = _execute(learner_query(*by_id).execution_options(yield_per=chunk))
    for partition in result.partitions():
        groups = [(oid, list(rows)) for oid, rows in groupby(partition, key=itemgetter(0))]
        facts = load_facts(
            {oid: frames[oid] for oid, _rows in groups},
            policy,
            [row[1] for row in partition],
            with_independent=with_independent,
        )
        chunk_learners = []
        for oid, rows in groups:
            _add_outcomes(facts[oid], rows)
            chunk_learners.append((oid, [learner_info(row) for row in rows]))
        if not with_independent:  # the work of those whose eligibility turns on it: 3 statements (or none)
            load_independent(
                facts,
                {
                    oid: decided_by_completion(frames[oid], learners, facts[oid])
                    for oid, learners in chunk_learners
                },
            )
        for oid, learners in chunk_learners:
            built = build_rows(
                frames[oid], learners, facts[oid], policy=policy, completion_policy=completion, now=now
            )
            for row in built:
                yield by_id[oid], frames[oid], row


def iter_rows(
    offering: Offering,
    config: Mapping[str, Any] | None = None,
    *,
    chunk: int | None = None,
    with_independent: bool = True,
) -> Iterator[tuple[OfferingFrame, LearnerRow]]:
    """One offering's rows, streamed (see :func:`iter_offering_rows`)."""
    for _offering, frame, row in iter_offering_rows(
        [offering], config, chunk=chunk, with_independent=with_independent
    ):
        yield frame, row
