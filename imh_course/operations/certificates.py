"""Issuing, reissuing and revoking certificates: exactly once, from a frozen snapshot, audited.

* **Issue** builds :class:`CertificateFacts` from the learner's ledger, renders the PDF *before*
  anything is written (a crashing renderer leaves no row), then inserts the row in a savepoint.
  The partial unique index "one valid certificate per learner and offering" is the invariant:
  when two coordinators (or workers) issue at once, the loser's insert fails and it returns the
  winner's certificate. Issuing when a valid certificate exists returns it unchanged, so the
  operation can be looped (bulk issue) and retried safely.
* **Reissue** (reason required) takes a fresh snapshot as version + 1 and supersedes the old
  version in the same transaction; **revoke** (reason required) marks the valid version revoked.
  Facts and PDF of a stored row are never modified; only status fields change.

Every change is an audit event in the caller's transaction. Operations flush, callers commit.
Outside a request on SQLite, callers should start with ``database.begin_write()`` (the
operations call it too, which is a no-op once a transaction has begun).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..database import begin_write, locked
from ..documents._pdf import unsupported_characters
from ..documents.certificate import CertificateFacts, facts_digest, render_certificate_pdf
from ..extensions import db
from ..mail.notify import queue_certificate_issued
from ..models.accounts import User
from ..models.audit_chain import Actor, record_event
from ..models.certificates import Attestation, Certificate, CertificateStatus
from ..models.offerings import Enrolment, Offering
from ..models.types import utcnow
from ..records.certificate_facts import (
    build_certificate_facts,
    certificate_name,
    learner_ce_standing,
    local_date,
)
from ..records.ledgers import LearnerLedger, completion_policy, credit_policy, learner_ledger
from ..rules.ce_standing import CeStanding, FaceToFace
from ..rules.completion import (
    CertificateKind,
    CompletionFacts,
    CompletionStatus,
    Eligibility,
    certificate_eligibility,
    evaluate_completion,
)
from ..rules.credit import format_hours
from ..rules.licenses import Approval
from ..rules.refusals import ATTESTATION_STALE, LICENSE_NUMBER_MISSING, staff_reasons
from ..xapi import producers as xapi
from .evaluation import attestation_is_current, current_attestation, evaluation_submitted

log = logging.getLogger("imh_course.certificates")

__all__ = ["ATTESTATION_STALE", "LICENSE_NUMBER_MISSING"]  # re-exported: they live in rules.refusals
MAX_REASON_CHARS = 1_000


class CertificateError(ValueError):
    """A clear reason a certificate action was refused (nothing was written)."""


class NotEligible(CertificateError):
    """The learner does not (yet) meet the requirements; ``reasons`` lists what is missing.

    The message is for the coordinator who asked (it names the learner: "Not eligible yet: Lena M.
    has not submitted the course evaluation."); ``reasons`` keep the learner's wording too.
    """

    def __init__(self, reasons: tuple[str, ...], name: str) -> None:
        self.reasons = reasons
        self.name = name
        super().__init__("Not eligible yet: " + "; ".join(staff_reasons(name, reasons)) + ".")

    @property
    def staff_reasons(self) -> tuple[str, ...]:
        return staff_reasons(self.name, self.reasons)


def new_public_id() -> str:
    """An opaque, unguessable certificate id (128 random bits, URL-safe; 22 characters)."""
    return secrets.token_urlsafe(16)


def completion_facts(ledger: LearnerLedger, evaluation_done: bool) -> CompletionFacts:
    return CompletionFacts(
        meetings_total=sum(1 for s in ledger.sessions if s.meeting is not None),
        meetings_credited=ledger.meetings_credited,
        meetings_remaining=ledger.meetings_remaining,
        quizzes_total=sum(len(s.quizzes) for s in ledger.sessions),
        quizzes_passed=sum(s.quizzes_passed for s in ledger.sessions),
        readings_total=sum(len(s.readings) for s in ledger.sessions),
        readings_done=sum(s.readings_done for s in ledger.sessions),
        evaluation_submitted=evaluation_done,
    )


@dataclass(frozen=True)
class Standing:
    """Where one learner stands on the way to a certificate in one offering."""

    learner: User
    ledger: LearnerLedger
    kind: CertificateKind
    approval: Approval | None
    completion: CompletionStatus
    evaluation_submitted: bool
    attestation: Attestation | None
    attestation_current: bool
    eligibility: Eligibility
    certificates: tuple[Certificate, ...]  # every version, newest first
    unprintable: str  # characters of the certificate name the PDF font cannot draw
    #: the decision behind ``kind``: whether the face-to-face hours are CE, and how to say so
    ce_standing: CeStanding

    @property
    def face_to_face(self) -> FaceToFace:
        return self.ledger.face_to_face(self.ce_standing)

    @property
    def valid_certificate(self) -> Certificate | None:
        return next((c for c in self.certificates if c.status is CertificateStatus.VALID), None)

    @property
    def ce_hours(self) -> str:
        return format_hours(self.ledger.ce_hours)

    @property
    def name(self) -> str:
        return certificate_name(self.learner)


def certificates_of(offering_id: int, user_id: int) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.offering_id == offering_id, Certificate.user_id == user_id)
            .order_by(Certificate.version.desc())
        )
    )


def learner_standing(offering: Offering, learner: User, config: Mapping[str, Any] | None = None) -> Standing:
    """Evaluation, attestation, completion and eligibility of ``learner``, with what is missing."""
    config = current_app.config if config is None else config
    ledger = learner_ledger(offering, learner.id, credit_policy(config))
    ce = learner_ce_standing(learner, offering)
    kind, approval = ce.kind, ce.approval
    evaluated = evaluation_submitted(offering.id, learner.id)
    attestation = current_attestation(offering.id, learner.id)
    attested = attestation_is_current(attestation, ledger)
    completion = evaluate_completion(completion_facts(ledger, evaluated), completion_policy(config))
    profile = learner.profile
    eligibility = certificate_eligibility(
        kind,
        ce_minutes=ledger.ce_minutes,
        completion=completion,
        evaluation_submitted=evaluated,
        attested=attested,
        attestation_stale=attestation is not None and not attested,
        license_numbered=bool(profile and (profile.license_number or "").strip()),
    )
    return Standing(
        learner=learner,
        ledger=ledger,
        kind=kind,
        approval=approval,
        completion=completion,
        evaluation_submitted=evaluated,
        attestation=attestation,
        attestation_current=attested,
        eligibility=eligibility,
        certificates=tuple(certificates_of(offering.id, learner.id)),
        unprintable=unsupported_characters(certificate_name(learner)),
        ce_standing=ce,
    )


# --- issue / reissue / revoke -------------------------------------------------------------------
@dataclass(frozen=True)
class IssueOutcome:
    certificate: Certificate
    created: bool  # False when a valid certificate already existed (or another issuer won the race)


def _valid_certificate(offering_id: int, user_id: int) -> Certificate | None:
    return db.session.scalar(
        select(Certificate).where(
            Certificate.offering_id == offering_id,
            Certificate.user_id == user_id,
            Certificate.status == CertificateStatus.VALID,
        )
    )


def _next_version(offering_id: int, user_id: int) -> int:
    latest = db.session.scalar(
        select(func.max(Certificate.version)).where(
            Certificate.offering_id == offering_id, Certificate.user_id == user_id
        )
    )
    return (latest or 0) + 1


def _require_enrolled(offering: Offering, learner: User) -> None:
    enrolled = db.session.scalar(
        select(Enrolment.id).where(Enrolment.offering_id == offering.id, Enrolment.user_id == learner.id)
    )
    if enrolled is None:
        raise CertificateError(f"{learner.full_name} is not enrolled in this offering.")


def _snapshot(
    actor: Actor, offering: Offering, learner: User, version: int
) -> tuple[CertificateFacts, bytes]:
    """(facts, PDF) of a new version under a new public id; raises before anything is written."""
    standing = learner_standing(offering, learner)
    if not standing.eligibility.eligible:
        raise NotEligible(standing.eligibility.reasons, standing.name)
    if actor.user is None:
        raise CertificateError("Certificates are issued by a coordinator, whose name they carry.")
    public_id = new_public_id()
    today: date = local_date(utcnow(), offering.timezone)
    try:
        facts = build_certificate_facts(
            certificate_id=public_id,
            version=version,
            offering=offering,
            learner=learner,
            ledger=standing.ledger,
            provider_name=current_app.config["IMH_PROVIDER_NAME"],
            coordinator_name=actor.user.full_name,
            issue_date=today,
        )
    except ValueError as exc:
        raise CertificateError(f"The certificate facts are incomplete: {exc}.") from exc
    try:
        pdf = render_certificate_pdf(facts)
    except Exception as exc:  # a renderer bug must not leave a half-issued certificate
        log.exception("rendering certificate %s failed", public_id)
        raise CertificateError("The certificate PDF could not be produced, so nothing was issued.") from exc
    return facts, pdf


def _new_row(
    offering: Offering, learner: User, actor: Actor, facts: CertificateFacts, pdf: bytes
) -> Certificate:
    return Certificate(
        public_id=facts.certificate_id,
        offering_id=offering.id,
        user_id=learner.id,
        version=facts.version,
        kind=facts.kind,
        facts=facts.to_dict(),
        facts_hash=facts_digest(facts),
        pdf=pdf,
        status=CertificateStatus.VALID,
        issued_dt=utcnow(),
        issued_by_id=actor.user.id if actor.user else None,
    )


def _summary(certificate: Certificate) -> dict[str, Any]:
    return {
        "public_id": certificate.public_id,
        "version": certificate.version,
        "kind": certificate.kind.value,
        "status": certificate.status.value,
        "facts_hash": certificate.facts_hash,
        "ce_hours": certificate.facts.get("ce_hours"),
    }


def issue_certificate(actor: Actor, offering: Offering, learner: User) -> IssueOutcome:
    """Issue the learner's certificate once; an existing valid certificate is returned as is.

    Raises :class:`NotEligible` (with the reasons) or :class:`CertificateError`; nothing is
    written then. Safe to call concurrently and in a loop.
    """
    begin_write()
    _require_enrolled(offering, learner)
    existing = _valid_certificate(offering.id, learner.id)
    if existing is not None:
        return IssueOutcome(existing, created=False)
    facts, pdf = _snapshot(actor, offering, learner, _next_version(offering.id, learner.id))
    certificate = _new_row(offering, learner, actor, facts, pdf)
    try:
        with db.session.begin_nested():
            db.session.add(certificate)
    except IntegrityError:
        # Another issuer committed first (one-valid index or the version number): theirs stands.
        existing = _valid_certificate(offering.id, learner.id)
        if existing is None:
            raise CertificateError(
                "The certificate changed while issuing. Please reload and try again."
            ) from None
        return IssueOutcome(existing, created=False)
    record_event(
        actor,
        "certificate.issue",
        "certificate",
        certificate.id,
        offering_id=offering.id,
        learner_id=learner.id,
        after=_summary(certificate),
    )
    queue_certificate_issued(learner, offering, certificate)
    xapi.on_certificate_issued(offering, certificate, learner)
    return IssueOutcome(certificate, created=True)


def _clean_reason(reason: str | None, action: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise CertificateError(f"Give a reason to {action} a certificate.")
    if len(text) > MAX_REASON_CHARS:
        raise CertificateError(f"Please keep the reason under {MAX_REASON_CHARS:,} characters.")
    return text


def _lock_valid(certificate: Certificate, action: str) -> Certificate:
    """The row, re-read under a row lock (PostgreSQL); refused unless it is still the valid version."""
    row = db.session.scalar(locked(select(Certificate).where(Certificate.id == certificate.id)))
    if row is None or row.status is not CertificateStatus.VALID:
        status = row.status.value if row is not None else "missing"
        raise CertificateError(f"Only the valid certificate can be {action}; this version is {status}.")
    return row


def reissue_certificate(actor: Actor, certificate: Certificate, reason: str | None) -> Certificate:
    """A fresh snapshot as version + 1 that supersedes ``certificate`` (which must be valid)."""
    reason = _clean_reason(reason, "reissue")
    begin_write()
    old = _lock_valid(certificate, "reissued")
    offering = db.session.get(Offering, old.offering_id)
    learner = db.session.get(User, old.user_id)
    facts, pdf = _snapshot(actor, offering, learner, _next_version(offering.id, learner.id))
    before = _summary(old)
    new = _new_row(offering, learner, actor, facts, pdf)
    try:
        with db.session.begin_nested():
            old.status = CertificateStatus.SUPERSEDED
            db.session.flush()  # the old version stops being "the valid one" before the new one is
            db.session.add(new)
            db.session.flush()
            old.superseded_by_id = new.id
    except IntegrityError:
        raise CertificateError(
            "The certificate changed while reissuing. Please reload and try again."
        ) from None
    record_event(
        actor,
        "certificate.reissue",
        "certificate",
        new.id,
        offering_id=offering.id,
        learner_id=learner.id,
        before=before,
        after={**_summary(new), "supersedes": old.public_id},
        reason=reason,
    )
    xapi.on_certificate_withdrawn(old, learner)
    xapi.on_certificate_issued(offering, new, learner)
    return new


def revoke_certificate(actor: Actor, certificate: Certificate, reason: str | None) -> Certificate:
    """Mark the valid ``certificate`` revoked, with the reason and time; the verification page says so."""
    reason = _clean_reason(reason, "revoke")
    begin_write()
    row = _lock_valid(certificate, "revoked")
    before = _summary(row)
    row.status = CertificateStatus.REVOKED
    row.revoked_dt = utcnow()
    row.revoked_reason = reason
    db.session.flush()
    record_event(
        actor,
        "certificate.revoke",
        "certificate",
        row.id,
        offering_id=row.offering_id,
        learner_id=row.user_id,
        before=before,
        after=_summary(row),
        reason=reason,
    )
    xapi.on_certificate_withdrawn(row, db.session.get(User, row.user_id))
    return row
