"""Certified facts read from the database: the certificate snapshot and the endorsement training log.

Both are built from the learner's ledger (``ledgers.learner_ledger``, i.e. ``rules.credit``), so the
hours on a certificate, in the training log and on screen come from the same functions and cannot
disagree. Which certificate a learner gets is decided by ``rules.ce_standing.ce_standing``, the
same decision that labels the face-to-face hours on every page.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import url_for
from sqlalchemy import select

from ..documents.certificate import CertificateFacts
from ..documents.training_log import LogEntry, TrainingLog
from ..extensions import db
from ..models.accounts import User
from ..models.offerings import FORMAT_LABELS, InstructorAssignment, Offering
from ..rules.ce_standing import CeStanding, ce_standing
from ..rules.completion import CertificateKind
from ..rules.credit import CreditPolicy, format_hours, minutes_to_hours
from ..rules.licenses import Approval
from ..rules.staleness import record_now
from .ledgers import LearnerLedger

#: Face-to-face and independent hours are plain clock hours, whatever the CE minutes-per-hour.
CLOCK = CreditPolicy(minutes_per_hour=60)


def clock_hours(minutes: int) -> str:
    """Minutes as clock hours with two decimals, rounded down ("1.50")."""
    return format_hours(minutes_to_hours(minutes, CLOCK))


def local_date(moment: datetime, tz_name: str) -> date:
    """The calendar day of a UTC moment in the offering's time zone."""
    return moment.astimezone(ZoneInfo(tz_name)).date()


def offering_approvals(offering: Offering) -> list[Approval]:
    return [Approval(a.board, a.provider_number, a.statement) for a in offering.approvals]


def instructor_names(offering_id: int) -> list[str]:
    """The names of the offering's instructors (one statement, however many teach it)."""
    return list(
        db.session.scalars(
            select(User.full_name)
            .join(InstructorAssignment, InstructorAssignment.user_id == User.id)
            .where(InstructorAssignment.offering_id == offering_id)
        )
    )


def learner_ce_standing(learner: User, offering: Offering) -> CeStanding:
    """Whether ``learner``'s face-to-face hours in ``offering`` are CE, from the licence on file."""
    profile = learner.profile
    return ce_standing(profile.license_type if profile else None, offering_approvals(offering))


def certificate_kind(learner: User, offering: Offering) -> tuple[CertificateKind, Approval | None]:
    """A CE certificate when one of the offering's approvals covers the licence, else completion."""
    standing = learner_ce_standing(learner, offering)
    return standing.kind, standing.approval


def certificate_name(learner: User) -> str:
    """The name printed on documents: the profile's certificate name, else the account name."""
    profile = learner.profile
    return profile.certificate_name if profile and profile.certificate_name.strip() else learner.full_name


def verification_url(public_id: str) -> str:
    """The public verification page of a certificate (absolute: it is printed and QR-encoded)."""
    return url_for("imh.verify_certificate", public_id=public_id, _external=True)


def build_certificate_facts(
    *,
    certificate_id: str,
    version: int,
    offering: Offering,
    learner: User,
    ledger: LearnerLedger,
    provider_name: str,
    coordinator_name: str,
    issue_date: date,
) -> CertificateFacts:
    """The frozen snapshot printed on one certificate version (raises ValueError if incomplete)."""
    if not offering.meetings:
        raise ValueError("the offering has no scheduled meetings")
    kind, approval = certificate_kind(learner, offering)
    profile = learner.profile
    # What the records certify (rules.staleness compares a stored snapshot with the same record).
    record = record_now(
        kind,
        approval,
        license_type=profile.license_type if profile else None,
        license_number=profile.license_number if profile else None,
        ce_hours=format_hours(ledger.ce_hours),
        face_to_face_hours=clock_hours(ledger.attended_clock_minutes),
    )
    return CertificateFacts(
        certificate_id=certificate_id,
        version=version,
        kind=record.kind,
        learner_name=certificate_name(learner),
        license_type=record.license_type,
        license_number=record.license_number,
        provider_name=provider_name,
        board_name=record.board_name,
        provider_number=record.provider_number,
        approval_statement=record.approval_statement,
        course_title=offering.course.title,
        offering_label=offering.label,
        first_meeting=local_date(offering.meetings[0].start_dt, offering.timezone),
        last_meeting=local_date(offering.meetings[-1].start_dt, offering.timezone),
        delivery_format=FORMAT_LABELS[offering.format],
        ce_hours=record.ce_hours,
        face_to_face_hours=record.face_to_face_hours,
        independent_hours=format_hours(ledger.independent_hours),
        issue_date=issue_date,
        coordinator_name=coordinator_name,
        verification_url=verification_url(certificate_id),
    )


def training_log_ce_note(standing: CeStanding, ledger: LearnerLedger) -> str:
    """What the log's face-to-face hours are for this learner, from the same decision as elsewhere."""
    if standing.certifiable:
        hours = ledger.face_to_face(standing).hours_text
        return (
            f"CE: {hours} CE contact hours credited for your license ({standing.license_type}); "
            "your CE certificate states the CE hours."
        )
    return f"{standing.label}. {standing.reason}"


def build_training_log(
    offering: Offering, learner: User, ledger: LearnerLedger, *, provider_name: str, generated_on: date
) -> TrainingLog:
    """One entry per attended meeting, then one independent-study entry per session with done work.

    Trainers are the offering's instructors; every entry names the session's competency domains.
    The log closes with what the face-to-face hours are for this learner (CE or not).
    """
    course = offering.course.title
    trainers = tuple(sorted(instructor_names(offering.id), key=str.casefold))
    face_to_face = [
        LogEntry(
            date=local_date(row.meeting.start_dt, offering.timezone),
            title=f"{course} — Session {row.session.number}: {row.session.title}",
            clock_hours=clock_hours(row.attended_minutes),
            competencies=tuple(row.session.competencies),
            trainers=trainers,
            independent_study=False,
        )
        for row in ledger.sessions
        if row.meeting is not None and row.attended_minutes > 0
    ]
    independent = [
        LogEntry(
            date=None,
            title=f"{course} — Session {row.session.number}: {row.session.title} "
            "(readings, exercises and quiz)",
            clock_hours=clock_hours(row.independent_minutes),
            competencies=tuple(row.session.competencies),
            trainers=(),
            independent_study=True,
        )
        for row in ledger.sessions
        if row.independent_minutes > 0
    ]
    return TrainingLog(
        learner_name=certificate_name(learner),
        provider_name=provider_name,
        course_title=course,
        offering_label=offering.label,
        generated_on=generated_on,
        entries=(*face_to_face, *independent),
        ce_note=training_log_ce_note(learner_ce_standing(learner, offering), ledger),
    )
