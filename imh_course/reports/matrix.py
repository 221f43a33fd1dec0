"""The completion matrix: learners × sessions, aggregated in plain Python over preloaded rows.

``matrix_data`` reads an offering's facts in a fixed number of statements (whatever the number of
learners) and feeds the rows to :class:`LearnerFacts`, which tallies them per learner and session;
:func:`build_rows` turns the tallies into one :class:`LearnerRow` per enrolment with the same rules
the learner's own ledger uses (``rules.credit`` for both ledgers, ``rules.completion`` for
completion and certificate eligibility), so the matrix and the learner's transcript agree.
No exercise response text is ever loaded: only whether a response was submitted.

Built for cohorts of thousands: a record is credited once per distinct (meeting, status, times),
rules run once per distinct set of totals, and a row's cells are only built when a page or an
export shows them. The page's filters and sort orders are in ``matrix_filters``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from ..models.certificates import CertificateStatus
from ..models.offerings import EnrolmentStatus
from ..rules.ce_standing import CeStanding, ce_standing
from ..rules.completion import (
    CertificateKind,
    CompletionFacts,
    CompletionPolicy,
    CompletionStatus,
    Eligibility,
    certificate_eligibility,
    evaluate_completion,
)
from ..rules.credit import (
    AttendanceStatus,
    CreditPolicy,
    format_hours,
    independent_minutes_by,
    minutes_to_hours,
)
from ..rules.licenses import Approval
from ..rules.staleness import CertifiedRecord, record_now
from .matrix_facts import (
    CertificateInfo,
    ItemInfo,
    LearnerFacts,
    LearnerInfo,
    OfferingFrame,
    SessionInfo,
    Tally,
)

CLOCK = CreditPolicy(minutes_per_hour=60)


# --- the aggregated rows ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
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


class Layout:
    """Per-session constants of one build: what every learner's cells share."""

    __slots__ = ("sessions", "meeting_ids", "past", "future", "readings", "exercises", "quizzes", "meetings")

    def __init__(self, frame: OfferingFrame, now: datetime) -> None:
        self.sessions = frame.sessions
        windows = [frame.meetings.get(s.id) for s in frame.sessions]
        self.meeting_ids = [w.meeting_id if w else None for w in windows]
        self.past = [w is not None and w.end <= now for w in windows]
        #: sessions whose meeting is still to come: the learner can still be credited there
        self.future = [i for i, w in enumerate(windows) if w is not None and not w.end <= now]
        self.meetings = sum(1 for w in windows if w is not None)
        self.readings = _totals(frame.readings, frame.sessions)
        self.exercises = _totals(frame.exercises, frame.sessions)
        self.quizzes = _totals(frame.quizzes, frame.sessions)

    def cells(self, tally: Tally) -> tuple[SessionCell, ...]:
        return tuple(
            SessionCell(
                session=session,
                meeting_id=self.meeting_ids[i],
                status=tally.status[i],
                attended_minutes=tally.attended[i],
                credited_minutes=tally.credited[i],
                awaiting_sign_out=bool(tally.awaiting[i]),
                is_past=self.past[i],
                readings_done=tally.read[i],
                readings_total=self.readings[i],
                exercises_submitted=tally.submitted[i],
                exercises_total=self.exercises[i],
                quizzes_passed=tally.passed[i],
                quizzes_attempted=tally.attempted[i],
                quizzes_total=self.quizzes[i],
            )
            for i, session in enumerate(self.sessions)
        )


def _totals(items: Iterable[ItemInfo], sessions: Sequence[SessionInfo]) -> list[int]:
    per_session = Counter(item.session_id for item in items)
    return [per_session[s.id] for s in sessions]


@dataclass(slots=True)
class LearnerRow:
    learner: LearnerInfo
    tally: Tally = field(repr=False, compare=False)
    layout: Layout = field(repr=False, compare=False)
    ce_minutes: int
    ce_hours: Decimal
    attended_minutes: int
    independent_minutes: int
    independent_hours: Decimal
    meetings_credited: int
    #: every reading done, exercise submitted and quiz passed (each session's work complete)
    independent_done: bool
    evaluation_submitted: bool
    attestation: str  # "current", "stale" or "missing"
    completion: CompletionStatus
    kind: CertificateKind
    approval: Approval | None
    #: the decision behind ``kind``: whether the face-to-face hours are CE, and how to label them
    standing: CeStanding
    eligibility: Eligibility
    certificates: tuple[CertificateInfo, ...]  # newest first
    at_risk: bool
    _cells: tuple[SessionCell, ...] | None = field(default=None, repr=False, compare=False)

    @property
    def cells(self) -> tuple[SessionCell, ...]:
        """One cell per session, built when first asked for (a page shows 100 rows, not all)."""
        if self._cells is None:
            self._cells = self.layout.cells(self.tally)
        return self._cells

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
        """The credited minutes as hours under the credit policy (CE only if ``standing`` says so)."""
        return format_hours(self.ce_hours)

    @property
    def certified_ce_hours_text(self) -> str:
        """The CE hours for a "CE hours" column: empty for a learner who will not get CE."""
        return self.ce_hours_text if self.standing.certifiable else ""

    @property
    def independent_hours_text(self) -> str:
        return format_hours(self.independent_hours)

    @property
    def face_to_face_hours_text(self) -> str:
        return format_hours(minutes_to_hours(self.attended_minutes, CLOCK))

    @property
    def awaiting_sign_out(self) -> int:
        return self.tally.awaiting.count(1)

    @property
    def record_now(self) -> CertifiedRecord:
        """What a certificate issued from these records now would certify (``rules.staleness``)."""
        return record_now(
            self.kind,
            self.approval,
            license_type=self.learner.license_type,
            license_number=self.learner.license_number,
            ce_hours=self.ce_hours_text,
            face_to_face_hours=self.face_to_face_hours_text,
        )


def build_rows(
    frame: OfferingFrame,
    learners: Sequence[LearnerInfo],
    facts: LearnerFacts,
    *,
    policy: CreditPolicy,
    completion_policy: CompletionPolicy,
    now: datetime,
) -> list[LearnerRow]:
    """One row per learner, in the order given (pure: no database, no Flask).

    The rules run on per-learner totals. Learners often share them (every one who attended all 11
    sessions and did all the work), so completion, eligibility and hours are decided once per
    distinct set of inputs: the same pure functions, called less often.
    """
    layout = Layout(frame, now)
    empty = Tally(facts.zeros)
    future = layout.future
    readings_total, exercises_total, quizzes_total = (
        sum(layout.readings),
        sum(layout.exercises),
        sum(layout.quizzes),
    )
    independent = independent_minutes_by(facts.done)
    standings: dict[str | None, CeStanding] = {}
    completions: dict[tuple[int, ...], CompletionStatus] = {}
    eligibilities: dict[tuple[object, ...], Eligibility] = {}
    ce_hours: dict[int, Decimal] = {}
    clock_hours: dict[int, Decimal] = {}
    min_meetings = completion_policy.min_meetings
    rows = []
    for learner in learners:
        uid = learner.user_id
        tally = facts.tallies.get(uid, empty)
        credited_by_session = tally.credited
        ce = sum(credited_by_session)
        credited = len(credited_by_session) - credited_by_session.count(0)  # credited minutes are >= 0
        remaining = sum(1 for i in future if credited_by_session[i] == 0)
        evaluated = uid in facts.evaluated
        read, submitted, passed = sum(tally.read), sum(tally.submitted), sum(tally.passed)
        facts_key = (
            layout.meetings,
            credited,
            remaining,
            quizzes_total,
            passed,
            readings_total,
            read,
            evaluated,
        )
        completion = completions.get(facts_key)
        if completion is None:
            completion = completions[facts_key] = evaluate_completion(
                CompletionFacts(*facts_key), completion_policy
            )
        license_type = learner.license_type
        standing = standings.get(license_type)
        if standing is None:
            standing = standings[license_type] = ce_standing(license_type, frame.approvals)
        approval, kind = standing.approval, standing.kind
        shown = facts.attested_minutes.get(uid)
        attestation = _attestation(shown, ce)
        numbered = bool((learner.license_number or "").strip())
        eligible_key = (approval is None, ce, facts_key, attestation, numbered)  # (no enum: hashes slowly)
        eligibility = eligibilities.get(eligible_key)
        if eligibility is None:
            eligibility = eligibilities[eligible_key] = _eligibility(
                kind, ce, completion, evaluated, attestation, numbered
            )
        minutes = independent.get(uid, 0)
        if ce not in ce_hours:
            ce_hours[ce] = minutes_to_hours(ce, policy)
        if minutes not in clock_hours:
            clock_hours[minutes] = minutes_to_hours(minutes, CLOCK)
        certificates = facts.certificates.get(uid)
        rows.append(
            LearnerRow(
                learner=learner,
                tally=tally,
                layout=layout,
                ce_minutes=ce,
                ce_hours=ce_hours[ce],
                attended_minutes=sum(tally.attended),
                independent_minutes=minutes,
                independent_hours=clock_hours[minutes],
                meetings_credited=credited,
                independent_done=(
                    read == readings_total and submitted == exercises_total and passed == quizzes_total
                ),
                evaluation_submitted=evaluated,
                attestation=attestation,
                completion=completion,
                kind=kind,
                approval=approval,
                standing=standing,
                eligibility=eligibility,
                certificates=tuple(sorted(certificates, key=_newest_first)) if certificates else (),
                at_risk=(
                    learner.status is not EnrolmentStatus.WITHDRAWN
                    and not completion.complete
                    and credited < min_meetings
                    and credited + remaining - min_meetings <= 0
                ),
            )
        )
    return rows


#: the completion policy met: the most independent work can do for a certificate of completion
_MET = CompletionStatus(complete=True, missing=(), can_still_complete=True)


def decided_by_completion(
    frame: OfferingFrame, learners: Iterable[LearnerInfo], facts: LearnerFacts
) -> list[int]:
    """The learners whose certificate eligibility may turn on their independent work, from facts
    read without it (attendance, evaluation, attestation), before their rows are built.

    Independent work counts towards eligibility only through the completion policy (quizzes passed,
    readings done) of a certificate of completion: a CE certificate needs credited minutes, the
    evaluation, the attestation and a licence number, never independent work
    (``rules.completion.certificate_eligibility``). So these are the learners whose certificate is of
    completion and who would be eligible were the policy met (the evaluation submitted and the
    attendance attested): the CE roster reads the independent work of these learners only, and every
    row's eligibility is then what the full matrix says.
    """
    decided = []
    standings: dict[str | None, CeStanding] = {}
    known: dict[tuple[int, bool, str, bool], bool] = {}
    for learner in learners:
        license_type = learner.license_type
        standing = standings.get(license_type)
        if standing is None:
            standing = standings[license_type] = ce_standing(license_type, frame.approvals)
        if standing.certifiable:  # a CE certificate
            continue
        uid = learner.user_id
        tally = facts.tallies.get(uid)
        ce = sum(tally.credited) if tally is not None else 0
        evaluated = uid in facts.evaluated
        attestation = _attestation(facts.attested_minutes.get(uid), ce)
        numbered = bool((learner.license_number or "").strip())
        key = (ce, evaluated, attestation, numbered)
        met = known.get(key)
        if met is None:
            met = known[key] = _eligibility(
                CertificateKind.COMPLETION, ce, _MET, evaluated, attestation, numbered
            ).eligible
        if met:
            decided.append(uid)
    return decided


def _attestation(shown: int | None, ce_minutes: int) -> str:
    """Whether the learner attested the CE minutes credited now ("current"), others ("stale") or none."""
    return "missing" if shown is None else ("current" if shown == ce_minutes else "stale")


def _newest_first(certificate: CertificateInfo) -> int:
    return -certificate.version


def _eligibility(
    kind: CertificateKind,
    ce_minutes: int,
    completion: CompletionStatus,
    evaluated: bool,
    attestation: str,
    license_numbered: bool,
) -> Eligibility:
    """As ``operations.certificates.learner_standing`` decides it, from preloaded facts."""
    return certificate_eligibility(
        kind,
        ce_minutes=ce_minutes,
        completion=completion,
        evaluation_submitted=evaluated,
        attested=attestation == "current",
        attestation_stale=attestation == "stale",
        license_numbered=license_numbered,
    )
