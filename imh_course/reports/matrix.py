"""The completion matrix: learners × sessions, aggregated in plain Python over preloaded rows.

``matrix_data.load_matrix`` reads an offering's facts in a fixed number of statements (whatever the
number of learners); :func:`build_rows` turns them into one :class:`LearnerRow` per enrolment with
the same rules the learner's own ledger uses (``rules.credit`` for both ledgers, ``rules.completion``
for completion and certificate eligibility), so the matrix and the learner's transcript agree.
No exercise response text is ever loaded: only whether a response was submitted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from ..models.certificates import CertificateStatus
from ..models.offerings import EnrolmentStatus, Funding
from ..models.progress import ResponseStatus
from ..operations.certificates import ATTESTATION_STALE, LICENSE_NUMBER_MISSING
from ..rules.completion import (
    ATTESTATION_MISSING,
    CertificateKind,
    CompletionFacts,
    CompletionPolicy,
    CompletionStatus,
    Eligibility,
    certificate_eligibility,
    evaluate_completion,
)
from ..rules.credit import (
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
from ..rules.licenses import Approval, approval_for

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


# --- filtering and sorting (server-side, from the query string) --------------------------------------
NO_LICENSE = "none"

SORT_KEYS: dict[str, Callable[[LearnerRow], object]] = {
    "name": lambda r: r.learner.name.casefold(),
    "license": lambda r: ((r.learner.license_type or "~").casefold(), r.learner.name.casefold()),
    "sessions": lambda r: (r.meetings_credited, r.learner.name.casefold()),
    "ce": lambda r: (r.ce_minutes, r.learner.name.casefold()),
    "independent": lambda r: (r.independent_minutes, r.learner.name.casefold()),
    "certificate": lambda r: (r.certificate_status, r.learner.name.casefold()),
    "status": lambda r: (r.learner.status.value, r.learner.name.casefold()),
}


def filter_rows(
    rows: Iterable[LearnerRow], *, license_type: str = "", at_risk: bool = False, not_issued: bool = False
) -> list[LearnerRow]:
    """``license_type``: "" for all, "none" for learners without one, else the exact type."""
    kept = []
    for row in rows:
        held = row.learner.license_type
        if license_type == NO_LICENSE and held not in (None, "", "None"):
            continue
        if license_type not in ("", NO_LICENSE) and held != license_type:
            continue
        if at_risk and not row.at_risk:
            continue
        if not_issued and row.valid_certificate is not None:
            continue
        kept.append(row)
    return kept


def sort_rows(rows: Iterable[LearnerRow], key: str = "name", descending: bool = False) -> list[LearnerRow]:
    return sorted(rows, key=SORT_KEYS.get(key, SORT_KEYS["name"]), reverse=descending)
