"""The completion matrix, CE roster and exports as they were computed before issue 9's speed-up.

A frozen copy of ``reports/matrix.py``, ``matrix_data.py``, ``exports_data.py`` and the chart counts
of ``charts.py`` at commit c0c3874 (per-cell ``rules.credit`` calls, ORM rows, one statement set per
offering), kept only as the reference the fast implementation must match value for value and byte
for byte (``test_matrix_reference.py``). Not used by the application; do not "fix" it.

Changed once since, on purpose (issue 13, marked "issue 13"): the completion matrix export's
per-session "minutes credited" heading, its separate "Face-to-face hours" and "CE hours" columns
(CE empty for a licence the approvals do not cover), and the funder report's CE hours, which count
only covered licensees. And once for issue 16 (marked "issue 16"): a cell signed in without a
sign-out says it is not credited ("present (no sign-out: not credited)"), as the learner is counted
among "absent / excused / no credit".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Row, Select, func, select

from imh_course.extensions import db
from imh_course.models.accounts import LearnerProfile, User
from imh_course.models.attendance import AttendanceEvidence, AttendanceRecord
from imh_course.models.certificates import Attestation, Certificate, CertificateStatus, EvaluationReceipt
from imh_course.models.curriculum import CourseSession, Exercise, Quiz, Reading
from imh_course.models.offerings import BoardApproval, Enrolment, EnrolmentStatus, Funding, Meeting, Offering
from imh_course.models.progress import ExerciseResponse, ReadingCompletion, ResponseStatus
from imh_course.models.quizzes import QuizAttempt
from imh_course.models.types import utcnow
from imh_course.operations.certificates import ATTESTATION_STALE, LICENSE_NUMBER_MISSING
from imh_course.records.ledgers import completion_policy, credit_policy
from imh_course.reports.charts import Bar
from imh_course.rules.completion import (
    ATTESTATION_MISSING,
    CertificateKind,
    CompletionFacts,
    CompletionPolicy,
    CompletionStatus,
    Eligibility,
    certificate_eligibility,
    evaluate_completion,
)
from imh_course.rules.credit import (
    AttendanceFact,
    AttendanceStatus,
    CreditPolicy,
    IndependentItem,
    IndependentKind,
    MeetingWindow,
    attended_minutes,
    credited_minutes,
    format_hours,
    independent_minutes,
    minutes_to_hours,
)
from imh_course.rules.licenses import Approval, approval_for
from imh_course.rules.refusals import staff_reasons

# --- reports/matrix.py -----
CLOCK = CreditPolicy(minutes_per_hour=60)


# --- preloaded facts (plain values) ---------------------------------------------------------------
@dataclass(frozen=True)
class SessionInfo:
    id: int
    number: int
    title: str


@dataclass(frozen=True)
class ItemInfo:
    """A current, published reading, exercise or quiz of a session."""

    key: str
    session_id: int
    minutes: int


@dataclass(frozen=True)
class OfferingFrame:
    """What every learner of an offering shares: sessions, meetings, assigned work, approvals."""

    offering_id: int
    timezone: str
    sessions: tuple[SessionInfo, ...]
    meetings: dict[int, MeetingWindow]  # by session id
    readings: tuple[ItemInfo, ...]
    exercises: tuple[ItemInfo, ...]
    quizzes: tuple[ItemInfo, ...]
    approvals: tuple[Approval, ...]


@dataclass(frozen=True)
class LearnerInfo:
    user_id: int
    name: str  # as printed on certificates
    email: str
    discipline: str | None
    license_type: str | None
    license_number: str | None
    funding: Funding
    status: EnrolmentStatus
    erased: bool = False


@dataclass(frozen=True)
class CertificateInfo:
    public_id: str
    version: int
    kind: CertificateKind
    status: CertificateStatus
    issued_dt: datetime


@dataclass
class LearnerFacts:
    """Per-learner rows of one offering (or one chunk of its learners), keyed by user id."""

    attendance: dict[int, dict[int, AttendanceFact]] = field(default_factory=lambda: defaultdict(dict))
    readings: dict[int, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))  # key -> minutes
    exercises: dict[int, dict[str, tuple[ResponseStatus, int]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    #: quiz key -> (passed, minutes of the first passed attempt's version, attempts)
    quizzes: dict[int, dict[str, tuple[bool, int, int]]] = field(default_factory=lambda: defaultdict(dict))
    evaluated: set[int] = field(default_factory=set)
    attested_minutes: dict[int, int] = field(default_factory=dict)
    certificates: dict[int, list[CertificateInfo]] = field(default_factory=lambda: defaultdict(list))


# --- the aggregated rows ----------------------------------------------------------------------------
@dataclass(frozen=True)
class SessionCell:
    session: SessionInfo
    meeting_id: int | None
    status: AttendanceStatus | None  # None: no attendance record
    attended_minutes: int
    credited_minutes: int
    awaiting_sign_out: bool
    is_past: bool
    readings_done: int
    readings_total: int
    exercises_submitted: int
    exercises_total: int
    quizzes_passed: int
    quizzes_attempted: int
    quizzes_total: int


@dataclass(frozen=True)
class LearnerRow:
    learner: LearnerInfo
    cells: tuple[SessionCell, ...]
    ce_minutes: int
    ce_hours: Decimal
    attended_minutes: int
    independent_minutes: int
    independent_hours: Decimal
    meetings_credited: int
    evaluation_submitted: bool
    attestation: str  # "current", "stale" or "missing"
    completion: CompletionStatus
    kind: CertificateKind
    approval: Approval | None
    eligibility: Eligibility
    certificates: tuple[CertificateInfo, ...]  # newest first
    at_risk: bool

    @property
    def user_id(self) -> int:
        return self.learner.user_id

    @property
    def active(self) -> bool:
        return self.learner.status is not EnrolmentStatus.WITHDRAWN

    @property
    def valid_certificate(self) -> CertificateInfo | None:
        return next((c for c in self.certificates if c.status is CertificateStatus.VALID), None)

    @property
    def certificate_status(self) -> str:
        """valid, revoked, superseded (no valid version), eligible (not issued yet) or not eligible."""
        if self.valid_certificate is not None:
            return "valid"
        if self.certificates:
            return self.certificates[0].status.value
        return "eligible" if self.eligibility.eligible else "not eligible"

    @property
    def due(self) -> bool:
        """Eligible, active and without a valid certificate: bulk issue picks these."""
        return self.active and self.eligibility.eligible and self.valid_certificate is None

    @property
    def ce_hours_text(self) -> str:
        return format_hours(self.ce_hours)

    @property
    def independent_hours_text(self) -> str:
        return format_hours(self.independent_hours)

    @property
    def face_to_face_hours_text(self) -> str:
        return format_hours(minutes_to_hours(self.attended_minutes, CLOCK))

    @property
    def awaiting_sign_out(self) -> int:
        return sum(1 for c in self.cells if c.awaiting_sign_out)


def _cell(
    session: SessionInfo,
    frame: OfferingFrame,
    by_session: dict[str, dict[int, list[ItemInfo]]],
    facts: LearnerFacts,
    user_id: int,
    policy: CreditPolicy,
    now: datetime,
) -> tuple[SessionCell, int]:
    """One session of one learner and its independent minutes.

    Only done items are handed to ``independent_minutes`` (undone items are worth 0 there anyway),
    and the credit rules run only where a record exists (no record is worth 0): same results,
    far fewer objects for a large cohort.
    """
    window = frame.meetings.get(session.id)
    fact = facts.attendance[user_id].get(window.meeting_id) if window else None
    attended = attended_minutes(window, fact) if fact is not None else 0
    credited = credited_minutes(window, fact, policy) if fact is not None else 0
    readings = by_session["readings"].get(session.id, ())
    exercises = by_session["exercises"].get(session.id, ())
    quizzes = by_session["quizzes"].get(session.id, ())
    done_readings = facts.readings.get(user_id, {})
    responses = facts.exercises.get(user_id, {})
    attempts = facts.quizzes.get(user_id, {})
    done: list[IndependentItem] = []
    read = submitted = passed_quizzes = attempted = 0
    for r in readings:
        if r.key in done_readings:
            read += 1
            done.append(IndependentItem(IndependentKind.READING, r.key, done_readings[r.key], True))
    for e in exercises:
        status, minutes = responses.get(e.key, (None, 0))
        if status is ResponseStatus.SUBMITTED:
            submitted += 1
            done.append(IndependentItem(IndependentKind.EXERCISE, e.key, minutes, True))
    for q in quizzes:
        passed, minutes, tries = attempts.get(q.key, (False, 0, 0))
        attempted += tries > 0
        if passed:
            passed_quizzes += 1
            done.append(IndependentItem(IndependentKind.QUIZ, q.key, minutes, True))
    cell = SessionCell(
        session=session,
        meeting_id=window.meeting_id if window else None,
        status=fact.status if fact else None,
        attended_minutes=attended,
        credited_minutes=credited,
        awaiting_sign_out=fact is not None and fact.arrived is not None and fact.departed is None,
        is_past=window is not None and window.end <= now,
        readings_done=read,
        readings_total=len(readings),
        exercises_submitted=submitted,
        exercises_total=len(exercises),
        quizzes_passed=passed_quizzes,
        quizzes_attempted=attempted,
        quizzes_total=len(quizzes),
    )
    return cell, independent_minutes(done)


def _group(items: Iterable[ItemInfo]) -> dict[int, list[ItemInfo]]:
    grouped: dict[int, list[ItemInfo]] = defaultdict(list)
    for item in items:
        grouped[item.session_id].append(item)
    return grouped


def build_rows(
    frame: OfferingFrame,
    learners: Sequence[LearnerInfo],
    facts: LearnerFacts,
    *,
    policy: CreditPolicy,
    completion_policy: CompletionPolicy,
    now: datetime,
) -> list[LearnerRow]:
    """One row per learner, in the order given (pure: no database, no Flask)."""
    by_session = {
        "readings": _group(frame.readings),
        "exercises": _group(frame.exercises),
        "quizzes": _group(frame.quizzes),
    }
    rows = []
    for learner in learners:
        uid = learner.user_id
        pairs = [_cell(s, frame, by_session, facts, uid, policy, now) for s in frame.sessions]
        cells = tuple(cell for cell, _ in pairs)
        ce = sum(c.credited_minutes for c in cells)
        independent = sum(minutes for _, minutes in pairs)
        credited = sum(1 for c in cells if c.credited_minutes > 0)
        remaining = sum(
            1 for c in cells if c.meeting_id is not None and not c.is_past and c.credited_minutes == 0
        )
        evaluated = uid in facts.evaluated
        completion = evaluate_completion(
            CompletionFacts(
                meetings_total=sum(1 for c in cells if c.meeting_id is not None),
                meetings_credited=credited,
                meetings_remaining=remaining,
                quizzes_total=sum(c.quizzes_total for c in cells),
                quizzes_passed=sum(c.quizzes_passed for c in cells),
                readings_total=sum(c.readings_total for c in cells),
                readings_done=sum(c.readings_done for c in cells),
                evaluation_submitted=evaluated,
            ),
            completion_policy,
        )
        approval = approval_for(learner.license_type, frame.approvals)
        kind = CertificateKind.CE if approval else CertificateKind.COMPLETION
        shown = facts.attested_minutes.get(uid)
        attestation = "missing" if shown is None else ("current" if shown == ce else "stale")
        eligibility = _eligibility(kind, ce, completion, evaluated, attestation, learner)
        slack = credited + remaining - completion_policy.min_meetings
        rows.append(
            LearnerRow(
                learner=learner,
                cells=cells,
                ce_minutes=ce,
                ce_hours=minutes_to_hours(ce, policy),
                attended_minutes=sum(c.attended_minutes for c in cells),
                independent_minutes=independent,
                independent_hours=minutes_to_hours(independent, CLOCK),
                meetings_credited=credited,
                evaluation_submitted=evaluated,
                attestation=attestation,
                completion=completion,
                kind=kind,
                approval=approval,
                eligibility=eligibility,
                certificates=tuple(sorted(facts.certificates.get(uid, []), key=lambda c: -c.version)),
                at_risk=(
                    learner.status is not EnrolmentStatus.WITHDRAWN
                    and not completion.complete
                    and credited < completion_policy.min_meetings
                    and slack <= 0
                ),
            )
        )
    return rows


def _eligibility(
    kind: CertificateKind,
    ce_minutes: int,
    completion: CompletionStatus,
    evaluated: bool,
    attestation: str,
    learner: LearnerInfo,
) -> Eligibility:
    """As ``operations.certificates.learner_standing`` decides it, from preloaded facts."""
    base = certificate_eligibility(
        kind,
        ce_minutes=ce_minutes,
        completion=completion,
        evaluation_submitted=evaluated,
        attested=attestation == "current",
    )
    reasons = list(base.reasons)
    if attestation == "stale":
        reasons = [ATTESTATION_STALE if r == ATTESTATION_MISSING else r for r in reasons]
    if kind is CertificateKind.CE and not (learner.license_number or "").strip():
        reasons.append(LICENSE_NUMBER_MISSING)
    return Eligibility(eligible=not reasons, reasons=tuple(reasons))


# --- reports/matrix_data.py -----
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


# --- reports/exports_data.py -----
FUNDING_LABELS = {
    Funding.FULL_FEE: "Full fee",
    Funding.GRANT_FUNDED: "Grant-funded",
    Funding.SCHOLARSHIP: "Scholarship",
    Funding.GROUP_RATE: "Group rate",
    Funding.WAIVED: "Waived",
}
ATTENDANCE_LABELS = {
    "present": "present",
    "late": "late",
    "left_early": "left early",
    "absent": "absent",
    "excused": "excused",
}


def _local_date(moment: datetime, tz_name: str) -> str:
    return moment.astimezone(ZoneInfo(tz_name)).date().isoformat()


def certificate_columns(row: LearnerRow) -> tuple[str, str]:
    """(certificate ID, status): the valid version, else the newest one, else whether it is due."""
    shown = row.valid_certificate or (row.certificates[0] if row.certificates else None)
    if shown is None:
        return "", "not issued (eligible)" if row.eligibility.eligible else "not issued"
    return shown.public_id, shown.status.value


# --- CE roster (board audit) -------------------------------------------------------------------------
CE_ROSTER_HEADER = (
    "Offering",
    "Learner",
    "Email",
    "License type",
    "License number",
    "Certificate type",
    "CE hours",
    "Face-to-face clock hours",
    "Sessions credited",
    "Meeting dates attended",
    "Certificate ID",
    "Certificate status",
    "Enrolment status",
    "Video platform reports",
)


def _reports_of(offering: Offering, user_id: int) -> str:
    """Every participant report behind the learner's records, meeting by meeting (ORM walk)."""
    items: list[str] = []
    for meeting in sorted(offering.meetings, key=lambda m: m.start_dt):
        record = db.session.scalar(
            select(AttendanceRecord).where(
                AttendanceRecord.meeting_id == meeting.id, AttendanceRecord.user_id == user_id
            )
        )
        if record is None:
            continue
        evidence = db.session.scalars(
            select(AttendanceEvidence)
            .where(AttendanceEvidence.record_id == record.id)
            .order_by(AttendanceEvidence.id)
        ).all()
        for e in evidence:
            if e.report_import is not None:
                text = (
                    f"{_local_date(meeting.start_dt, offering.timezone)}: "
                    f"{e.report_import.file_name}, SHA-256 {e.report_import.sha256}"
                )
                if text not in items:
                    items.append(text)
    return "; ".join(items)


def ce_roster_line(offering: Offering, frame: OfferingFrame, row: LearnerRow) -> list[object]:
    dates = [
        _local_date(frame.meetings[cell.session.id].start, frame.timezone)
        for cell in row.cells
        if cell.credited_minutes > 0 and cell.session.id in frame.meetings
    ]
    cert_id, cert_status = certificate_columns(row)
    ce = row.kind is CertificateKind.CE
    return [
        offering.label,
        row.learner.name,
        row.learner.email,
        row.learner.license_type or "",
        row.learner.license_number or "",
        "CE" if ce else "Completion (not CE)",
        row.ce_hours_text if ce else "",
        row.face_to_face_hours_text,
        row.meetings_credited,
        "; ".join(dates),
        cert_id,
        cert_status,
        row.learner.status.value,
        _reports_of(offering, row.learner.user_id),
    ]


def ce_roster_rows(offerings: Iterable[Offering]) -> Iterator[list[object]]:
    for offering in offerings:
        # Attendance and certificates only: the roster shows no independent-learning columns.
        for frame, row in iter_rows(offering, with_independent=False):
            yield ce_roster_line(offering, frame, row)


# --- completion matrix -----------------------------------------------------------------------------
def matrix_header(frame: OfferingFrame) -> list[str]:
    header = ["Learner", "Email", "License type", "Enrolment status", "Funding"]
    for s in frame.sessions:
        n = s.number
        # issue 13: "minutes credited" (CE only for a covered licence), face-to-face and CE hours apart
        header += [
            f"S{n} attendance",
            f"S{n} minutes credited",
            f"S{n} readings",
            f"S{n} exercises",
            f"S{n} quiz",
        ]
    return header + [
        "Sessions credited",
        "Face-to-face hours",
        "CE hours",
        "Independent learning hours (not CE)",
        "Evaluation",
        "Attestation",
        "Completion",
        "At risk",
        "Certificate ID",
        "Certificate status",
    ]


def matrix_line(row: LearnerRow) -> list[object]:
    line: list[object] = [
        row.learner.name,
        row.learner.email,
        row.learner.license_type or "",
        row.learner.status.value,
        FUNDING_LABELS[row.learner.funding],
    ]
    for c in row.cells:
        mark = ATTENDANCE_LABELS[c.status.value] if c.status else ("no record" if c.is_past else "")
        if c.awaiting_sign_out:
            mark += " (no sign-out: not credited)"  # issue 16: counted as no credit
        quiz = "passed" if c.quizzes_passed == c.quizzes_total else f"{c.quizzes_passed}/{c.quizzes_total}"
        line += [
            mark,
            c.credited_minutes,
            f"{c.readings_done}/{c.readings_total}",
            f"{c.exercises_submitted}/{c.exercises_total}",
            quiz if c.quizzes_total else "",
        ]
    cert_id, cert_status = certificate_columns(row)
    return line + [
        row.meetings_credited,
        row.face_to_face_hours_text,
        row.ce_hours_text if row.kind is CertificateKind.CE else "",  # issue 13: no CE for the uncovered
        row.independent_hours_text,
        "submitted" if row.evaluation_submitted else "not submitted",
        row.attestation,
        "complete"
        if row.completion.complete
        else "; ".join(staff_reasons(row.learner.name, row.completion.missing)),  # staff read it
        "yes" if row.at_risk else "",
        cert_id,
        cert_status,
    ]


def matrix_rows(offering: Offering) -> Iterator[list[object]]:
    for _frame, row in iter_rows(offering):
        yield matrix_line(row)


# --- funder report -----------------------------------------------------------------------------------
FUNDER_HEADER = (
    "Funding",
    "Discipline",
    "Enrolments",
    "Active",
    "Withdrawn",
    "Completed the course",
    "Certificates issued",
    "Face-to-face clock hours delivered",
    "CE hours credited",
    "Independent learning hours (not CE)",
)


_COUNTS = (
    "enrolments",
    "active",
    "withdrawn",
    "completed",
    "certificates",
    "attended_minutes",
    "ce_minutes",
    "independent_minutes",
)


@dataclass
class FunderGroup:
    funding: Funding
    discipline: str
    enrolments: int = 0
    active: int = 0
    withdrawn: int = 0
    completed: int = 0
    certificates: int = 0
    attended_minutes: int = 0
    ce_minutes: int = 0
    independent_minutes: int = 0

    def add(self, row: LearnerRow) -> None:
        self.enrolments += 1
        withdrawn = row.learner.status is EnrolmentStatus.WITHDRAWN
        self.withdrawn += withdrawn
        self.active += not withdrawn
        self.completed += row.completion.complete
        self.certificates += row.valid_certificate is not None
        self.attended_minutes += row.attended_minutes
        self.ce_minutes += row.ce_minutes if row.kind is CertificateKind.CE else 0  # issue 13
        self.independent_minutes += row.independent_minutes

    def merge(self, other: FunderGroup) -> None:
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def line(self, policy: CreditPolicy, funding_label: str | None = None) -> list[object]:
        return [
            funding_label or FUNDING_LABELS[self.funding],
            self.discipline,
            self.enrolments,
            self.active,
            self.withdrawn,
            self.completed,
            self.certificates,
            format_hours(minutes_to_hours(self.attended_minutes, CLOCK)),
            format_hours(minutes_to_hours(self.ce_minutes, policy)),
            format_hours(minutes_to_hours(self.independent_minutes, CLOCK)),
        ]


def _discipline(row: LearnerRow) -> str:
    return (row.learner.discipline or "").strip() or "(not given)"


def funder_groups(rows: Iterable[LearnerRow]) -> list[FunderGroup]:
    """Groups by funding type and discipline (disciplines compared case-insensitively)."""
    groups: dict[tuple[Funding, str], FunderGroup] = {}
    for row in rows:
        discipline = _discipline(row)
        key = (row.learner.funding, discipline.casefold())
        group = groups.get(key)
        if group is None:
            group = groups[key] = FunderGroup(row.learner.funding, discipline)
        group.add(row)
    order = list(Funding)
    return sorted(groups.values(), key=lambda g: (order.index(g.funding), g.discipline.casefold()))


def funder_rows(offering: Offering) -> list[list[object]]:
    """One line per (funding, discipline), a subtotal per funding type, then the grand total."""
    policy, _ = policies()
    groups = funder_groups(row for _frame, row in iter_rows(offering))
    lines: list[list[object]] = []
    total = FunderGroup(Funding.FULL_FEE, "All disciplines")
    for funding in Funding:
        mine: Sequence[FunderGroup] = [g for g in groups if g.funding is funding]
        if not mine:
            continue
        subtotal = FunderGroup(funding, "All disciplines")
        for group in mine:
            lines.append(group.line(policy))
            subtotal.merge(group)
            total.merge(group)
        lines.append(subtotal.line(policy, f"{FUNDING_LABELS[funding]} (subtotal)"))
    lines.append(total.line(policy, "Total"))
    return lines


# --- reports/charts.py (the counts) -----
@dataclass(frozen=True)
class SessionCount:
    number: int
    title: str
    meeting_id: int | None
    credited: int
    absent: int
    no_record: int
    awaiting_sign_out: int
    learners: int


def session_counts(frame: OfferingFrame, rows: Sequence[LearnerRow]) -> list[SessionCount]:
    """Per session, among active learners: credited, absent/excused, no record yet."""
    active = [r for r in rows if r.active]
    counts = []
    for i, session in enumerate(frame.sessions):
        cells = [r.cells[i] for r in active]
        window = frame.meetings.get(session.id)
        counts.append(
            SessionCount(
                number=session.number,
                title=session.title,
                meeting_id=window.meeting_id if window else None,
                credited=sum(1 for c in cells if c.credited_minutes > 0),
                absent=sum(1 for c in cells if c.status is not None and c.credited_minutes == 0),
                no_record=sum(1 for c in cells if c.status is None),
                awaiting_sign_out=sum(1 for c in cells if c.awaiting_sign_out),
                learners=len(active),
            )
        )
    return counts


def funnel_bars(rows: Sequence[LearnerRow], min_meetings: int) -> list[Bar]:
    active = [r for r in rows if r.active]
    total = len(active)

    def independent_done(r: LearnerRow) -> bool:
        return all(
            c.readings_done == c.readings_total
            and c.exercises_submitted == c.exercises_total
            and c.quizzes_passed == c.quizzes_total
            for c in r.cells
        )

    return [
        Bar("Enrolled (active)", total, total),
        Bar(
            f"Attended {min_meetings}+ sessions",
            sum(1 for r in active if r.meetings_credited >= min_meetings),
            total,
        ),
        Bar("Independent work done", sum(1 for r in active if independent_done(r)), total),
        Bar("Evaluation submitted", sum(1 for r in active if r.evaluation_submitted), total),
        Bar("Attendance attested", sum(1 for r in active if r.attestation == "current"), total),
        Bar("Certificate issued", sum(1 for r in active if r.valid_certificate is not None), total),
    ]
