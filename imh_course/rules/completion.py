"""Course completion and certificate eligibility.

Completion is separate from CE: a nurse with no eligible licence can complete the course, and a
licensee with some credited minutes can get a CE certificate for those minutes. Both certificates
need the course evaluation and the learner's attestation that the recorded attendance is accurate,
because NYSED audits accept only certificates, never self-reported forms.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum

from .refusals import (
    ATTESTATION_MISSING,
    ATTESTATION_STALE,
    EVALUATION_MISSING,
    INCOMPLETE,
    LICENSE_NUMBER_MISSING,
    NO_CE_MINUTES,
    quizzes_missing,
    readings_missing,
    sessions_missing,
)

__all__ = [
    "ATTESTATION_MISSING",
    "ATTESTATION_STALE",
    "EVALUATION_MISSING",
    "INCOMPLETE",
    "LICENSE_NUMBER_MISSING",
    "NO_CE_MINUTES",
    "CertificateKind",
    "CompletionFacts",
    "CompletionPolicy",
    "CompletionStatus",
    "Eligibility",
    "certificate_eligibility",
    "evaluate_completion",
]


@dataclass(frozen=True)
class CompletionPolicy:
    """What completing the course requires; default: 10 of 11 meetings, all quizzes and readings."""

    min_meetings: int = 10
    require_all_quizzes: bool = True
    require_all_readings: bool = True
    require_evaluation: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.min_meetings, bool) or not isinstance(self.min_meetings, int):
            raise ValueError(f"min_meetings must be an integer, got {self.min_meetings!r}")
        if self.min_meetings < 0:
            raise ValueError("min_meetings must not be negative")


@dataclass(frozen=True)
class CompletionFacts:
    """Counts for one learner in one offering.

    ``meetings_credited`` counts meetings with credited minutes > 0; ``meetings_remaining`` counts
    meetings not yet held, which the learner could still attend.
    """

    meetings_total: int
    meetings_credited: int
    meetings_remaining: int
    quizzes_total: int
    quizzes_passed: int
    readings_total: int
    readings_done: int
    evaluation_submitted: bool

    def __post_init__(self) -> None:
        # Impossible counts mean a caller bug; failing loudly beats a wrong "complete".
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name != "evaluation_submitted" and (isinstance(value, bool) or value < 0):
                raise ValueError(f"{field.name} must be a non-negative integer, got {value!r}")
        if self.meetings_credited + self.meetings_remaining > self.meetings_total:
            raise ValueError("credited + remaining meetings exceed the meetings scheduled")
        if self.quizzes_passed > self.quizzes_total:
            raise ValueError("more quizzes passed than exist")
        if self.readings_done > self.readings_total:
            raise ValueError("more readings done than exist")


@dataclass(frozen=True)
class CompletionStatus:
    """Whether the course is complete, what is still missing, and whether it still can be."""

    complete: bool
    missing: tuple[str, ...]
    can_still_complete: bool


def evaluate_completion(
    facts: CompletionFacts, policy: CompletionPolicy = CompletionPolicy()
) -> CompletionStatus:
    """Apply ``policy`` to ``facts``; ``missing`` lists human-readable steps in a stable order.

    ``can_still_complete`` turns False as soon as credited + remaining meetings fall below the
    minimum, so learner and coordinator are warned while there is still time to talk.
    """
    missing: list[str] = []
    needed = policy.min_meetings
    credited = facts.meetings_credited
    if credited < needed:
        missing.append(sessions_missing(credited, needed))
    if policy.require_all_quizzes and facts.quizzes_passed < facts.quizzes_total:
        missing.append(quizzes_missing(facts.quizzes_total - facts.quizzes_passed))
    if policy.require_all_readings and facts.readings_done < facts.readings_total:
        missing.append(readings_missing(facts.readings_total - facts.readings_done))
    if policy.require_evaluation and not facts.evaluation_submitted:
        missing.append(EVALUATION_MISSING)
    return CompletionStatus(
        complete=not missing,
        missing=tuple(missing),
        can_still_complete=credited + facts.meetings_remaining >= needed,
    )


class CertificateKind(StrEnum):
    """CE certificate (eligible licensees) or certificate of completion (everyone else)."""

    CE = "ce"
    COMPLETION = "completion"


@dataclass(frozen=True)
class Eligibility:
    """Whether a certificate may be issued now and, if not, every reason why."""

    eligible: bool
    reasons: tuple[str, ...]


def certificate_eligibility(
    kind: CertificateKind,
    *,
    ce_minutes: int,
    completion: CompletionStatus,
    evaluation_submitted: bool,
    attested: bool,
    attestation_stale: bool = False,
    license_numbered: bool = True,
) -> Eligibility:
    """Decide whether a ``kind`` certificate may be issued; reasons are de-duplicated, in order.

    Licence coverage is checked separately (``licenses.approval_for``); this rule covers the
    learner's own steps. A CE certificate needs credited CE minutes > 0; a certificate of
    completion needs the completion policy met, and its reasons repeat what is missing.
    ``attestation_stale``: the learner attested other minutes than are credited now (they must
    attest again, which is said so); ``license_numbered``: a license number is on file (a CE
    certificate prints it). Reasons are :class:`refusals.Reason`: learner and staff wording.
    """
    if isinstance(ce_minutes, bool) or not isinstance(ce_minutes, int) or ce_minutes < 0:
        raise ValueError(f"ce_minutes must be a non-negative integer, got {ce_minutes!r}")
    reasons: list[str] = []
    if not evaluation_submitted:
        reasons.append(EVALUATION_MISSING)
    if not attested:
        reasons.append(ATTESTATION_STALE if attestation_stale else ATTESTATION_MISSING)
    if kind is CertificateKind.CE and ce_minutes == 0:
        reasons.append(NO_CE_MINUTES)
    if kind is CertificateKind.COMPLETION and not completion.complete:
        reasons.extend(completion.missing or (INCOMPLETE,))
    if kind is CertificateKind.CE and not license_numbered:
        reasons.append(LICENSE_NUMBER_MISSING)
    unique = tuple(dict.fromkeys(reasons))
    return Eligibility(eligible=not unique, reasons=unique)
