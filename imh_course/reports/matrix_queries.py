"""The fact statements of the completion matrix: attendance, independent work and certificates of
one or many offerings' learners, one statement per table whatever their number.

Rows are read as plain Core tuples (no ORM layer per row) and streamed batch by batch into
``matrix_facts.LearnerFacts``; attendance values are decoded once per distinct record. Split from
``matrix_data`` (frames, learners, rows), which calls these.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Container, Iterable, Iterator, Mapping, Sequence
from functools import cache
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, Result, Row, Select, bindparam, select, type_coerce
from sqlalchemy.types import NullType

from ..extensions import db
from ..models.attendance import AttendanceRecord
from ..models.certificates import Certificate
from ..models.curriculum import Exercise, Quiz, Reading
from ..models.offerings import Meeting
from ..models.progress import ExerciseResponse, ReadingCompletion, ResponseStatus
from ..models.quizzes import QuizAttempt
from ..rules.credit import CreditPolicy
from .matrix_facts import LearnerFacts, OfferingFrame

_BATCH = 100  # rows fetched at a time by _stream (fewer live rows: see _stream)


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
