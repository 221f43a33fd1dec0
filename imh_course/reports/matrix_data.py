"""Loading the completion matrix: a fixed number of statements, whatever the number of learners.

Statements: 6 for the offering frames (sessions, readings, exercises, quizzes, meetings, approvals;
for any number of offerings), 1 for the learners (with their evaluation receipt and attestation)
and 5 for their facts (attendance, reading completions, submitted exercises, quiz attempts,
certificates). Only the columns the matrix needs are selected: never a response's text, never a
certificate's PDF. The fact statements are in ``matrix_queries`` (plain Core tuples, streamed into
``matrix_facts.LearnerFacts``).

:func:`iter_offering_rows` streams the rows of one or many offerings chunk by chunk (``yield_per``),
with the same fact statements per chunk, so an export of every offering takes a number of
statements that grows with its learners ÷ the chunk size, not with the number of offerings. The CE
roster reads 2 per chunk (attendance and certificates), plus 3 in a chunk holding learners whose
certificate of completion turns on their independent work (:func:`load_independent`: those
learners' readings, responses and quiz attempts only).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import Any

from flask import current_app
from sqlalchemy import Row, Select, case, func, select

from ..models.accounts import LearnerProfile, User
from ..models.certificates import Attestation, EvaluationReceipt
from ..models.curriculum import CourseSession, Exercise, Quiz, Reading
from ..models.offerings import BoardApproval, Enrolment, Meeting, Offering
from ..models.types import utcnow
from ..records.ledgers import completion_policy, credit_policy
from ..rules.completion import CompletionPolicy
from ..rules.credit import CreditPolicy, MeetingWindow
from ..rules.licenses import Approval
from .matrix import LearnerRow, build_rows, decided_by_completion
from .matrix_facts import ItemInfo, LearnerFacts, LearnerInfo, OfferingFrame, SessionInfo
from .matrix_queries import _execute, load_facts, load_independent

EXPORT_CHUNK = 500


@dataclass(frozen=True)
class Matrix:
    frame: OfferingFrame
    rows: list[LearnerRow]


def policies(config: Mapping[str, Any] | None = None) -> tuple[CreditPolicy, CompletionPolicy]:
    config = current_app.config if config is None else config
    return credit_policy(config), completion_policy(config)


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
