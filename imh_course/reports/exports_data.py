"""Rows of the coordinator's exports: CE roster, completion matrix and funder report.

Rows are produced lazily from :func:`matrix_data.iter_offering_rows` (``yield_per`` chunks), so a
CSV response streams them without holding every learner in memory. Cells are plain values; the
writers in ``documents.exports`` neutralise formula triggers and add the BOM. The CE roster reads
attendance and certificates, plus the independent work of the learners whose certificate of
completion turns on it (its "Certificate status" says whether a certificate is due), and its lines
come from the learners' tallies (no cells built).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..extensions import db
from ..models.attendance import AttendanceEvidence, AttendanceRecord
from ..models.certificates import Certificate, CertificateStatus
from ..models.offerings import FUNDING_LABELS, EnrolmentStatus, Funding, Meeting, Offering
from ..models.participant_reports import ParticipantImport
from ..rules.completion import CertificateKind
from ..rules.credit import CreditPolicy, format_hours, minutes_to_hours
from ..rules.refusals import staff_reasons
from ..rules.staleness import CertifiedRecord, staleness
from .matrix import CLOCK, LearnerRow
from .matrix_data import EXPORT_CHUNK, iter_offering_rows, iter_rows, policies
from .matrix_facts import OfferingFrame

ATTENDANCE_LABELS = {
    "present": "present",
    "late": "late",
    "left_early": "left early",
    "absent": "absent",
    "excused": "excused",
}


def _local_date(moment: datetime, tz_name: str) -> str:
    return moment.astimezone(ZoneInfo(tz_name)).date().isoformat()


def certificate_columns(row: LearnerRow, stale: str = "") -> tuple[str, str]:
    """(certificate ID, status): the valid version, else the newest one, else whether it is due.
    ``stale``: the "reissue needed" summary of a valid certificate the records no longer match."""
    shown = row.valid_certificate or (row.certificates[0] if row.certificates else None)
    if shown is None:
        return "", "not issued (eligible)" if row.eligibility.eligible else "not issued"
    if stale and shown.status is CertificateStatus.VALID:
        return shown.public_id, f"valid — {stale}"
    return shown.public_id, shown.status.value


def valid_facts(public_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The stored snapshots of these certificates by public id: one statement (run even for none,
    so an export's statements do not depend on its data)."""
    return dict(
        db.session.execute(
            select(Certificate.public_id, Certificate.facts).where(
                Certificate.public_id.in_(list(public_ids))
            )
        ).all()
    )


def stale_summary(row: LearnerRow, facts: Mapping[str, dict[str, Any]]) -> str:
    """ "certified 16.50 CE hours; records now 15.00 — reissue needed", or "" (``rules.staleness``)."""
    valid = row.valid_certificate
    snapshot = facts.get(valid.public_id) if valid is not None else None
    certified = CertifiedRecord.from_facts(snapshot) if snapshot is not None else None
    return staleness(certified, row.record_now).summary if certified is not None else ""


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


def report_evidence(zones: Mapping[int, str]) -> dict[int, dict[int, str]]:
    """Per offering (id -> time zone) and learner, the participant reports behind their attendance,
    in one statement: "2026-12-01: zoom.csv, SHA-256 …" per meeting and report, so a board auditor
    can ask for the file (kept by its sha256)."""
    if not zones:
        return {}
    found = db.session.execute(
        select(
            Meeting.offering_id,
            AttendanceRecord.user_id,
            Meeting.start_dt,
            ParticipantImport.file_name,
            ParticipantImport.sha256,
        )
        .join(Meeting, Meeting.id == AttendanceRecord.meeting_id)
        .join(AttendanceEvidence, AttendanceEvidence.record_id == AttendanceRecord.id)
        .join(ParticipantImport, ParticipantImport.id == AttendanceEvidence.report_import_id)
        .where(Meeting.offering_id.in_(list(zones)))
        .order_by(Meeting.start_dt, AttendanceEvidence.id)
    ).all()
    texts: dict[int, dict[int, list[str]]] = {offering_id: {} for offering_id in zones}
    for offering_id, user_id, start, name, sha in found:
        text = f"{_local_date(start, zones[offering_id])}: {name}, SHA-256 {sha}"
        mine = texts[offering_id].setdefault(user_id, [])
        if text not in mine:
            mine.append(text)
    return {o: {u: "; ".join(items) for u, items in per.items()} for o, per in texts.items()}


def meeting_dates(frame: OfferingFrame) -> list[str | None]:
    """Each session's meeting date in the offering's time zone (None: no meeting)."""
    windows = [frame.meetings.get(s.id) for s in frame.sessions]
    return [_local_date(w.start, frame.timezone) if w else None for w in windows]


class _HoursText:
    """``format_hours`` of minutes, once per distinct number of minutes (10,000 lines, ~70 values)."""

    def __init__(self, policy: CreditPolicy) -> None:
        self.policy = policy
        self.known: dict[int, str] = {}

    def __call__(self, minutes: int) -> str:
        text = self.known.get(minutes)
        if text is None:
            text = self.known[minutes] = format_hours(minutes_to_hours(minutes, self.policy))
        return text


def ce_roster_line(
    offering: Offering,
    frame: OfferingFrame,
    row: LearnerRow,
    dates: Sequence[str | None] | None = None,
    texts: tuple[_HoursText, _HoursText] | None = None,
    label: str | None = None,
    stale: str = "",
    reports: Mapping[int, str] | None = None,
) -> list[object]:
    """One learner's line. ``dates`` (:func:`meeting_dates`), ``texts`` (CE hours under the credit
    policy, clock hours) and the offering's ``label`` can be shared by the lines of an export;
    ``stale`` flags a valid certificate the records no longer match (:func:`stale_summary`)."""
    dates = meeting_dates(frame) if dates is None else dates
    attended = [dates[i] for i, minutes in enumerate(row.tally.credited) if minutes > 0 and dates[i]]
    cert_id, cert_status = certificate_columns(row, stale)
    ce = row.kind is CertificateKind.CE
    return [
        label or offering.label,
        row.learner.name,
        row.learner.email,
        row.learner.license_type or "",
        row.learner.license_number or "",
        "CE" if ce else "Completion (not CE)",
        ("" if not ce else texts[0](row.ce_minutes) if texts else row.ce_hours_text),
        texts[1](row.attended_minutes) if texts else row.face_to_face_hours_text,
        row.meetings_credited,
        "; ".join(attended),
        cert_id,
        cert_status,
        row.learner.status.value,
        (reports if reports is not None else report_evidence({offering.id: frame.timezone})[offering.id]).get(
            row.learner.user_id, ""
        ),
    ]


def ce_roster_rows(offerings: Sequence[Offering]) -> Iterator[list[object]]:
    """The CE roster lines of ``offerings`` in their order, streamed in chunks across offerings."""
    policy, _completion = policies()
    texts = (_HoursText(policy), _HoursText(CLOCK))  # what row.ce_hours_text / face_to_face_hours_text say
    # offering id -> (meeting dates, label, participant reports per learner)
    shared: dict[int, tuple[list[str | None], str, dict[int, str]]] = {}
    # No independent-learning columns: that work is read only where a certificate of completion's
    # eligibility turns on it (matrix.decided_by_completion), so the status column stays exact.
    # Lines go out EXPORT_CHUNK at a time: the snapshots of their valid certificates are read in one
    # statement per batch, to flag those the records no longer match ("reissue needed"); so are the
    # participant reports behind the attendance of the offerings first seen in the batch.
    rows = iter_offering_rows(offerings, with_independent=False)
    while batch := list(islice(rows, EXPORT_CHUNK)):
        facts = valid_facts(r.valid_certificate.public_id for _o, _f, r in batch if r.valid_certificate)
        new = {o.id: f.timezone for o, f, _r in batch if o.id not in shared}
        reports = report_evidence(new)
        for offering, frame, row in batch:
            mine = shared.get(offering.id)
            if mine is None:
                mine = shared[offering.id] = (meeting_dates(frame), offering.label, reports[offering.id])
            yield ce_roster_line(
                offering, frame, row, mine[0], texts, mine[1], stale_summary(row, facts), mine[2]
            )


# --- completion matrix -----------------------------------------------------------------------------
def matrix_header(frame: OfferingFrame) -> list[str]:
    header = ["Learner", "Email", "License type", "Enrolment status", "Funding"]
    for s in frame.sessions:
        n = s.number
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


def matrix_line(row: LearnerRow, stale: str = "") -> list[object]:
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
            mark += " (no sign-out: not credited)"
        quiz = "passed" if c.quizzes_passed == c.quizzes_total else f"{c.quizzes_passed}/{c.quizzes_total}"
        line += [
            mark,
            c.credited_minutes,
            f"{c.readings_done}/{c.readings_total}",
            f"{c.exercises_submitted}/{c.exercises_total}",
            quiz if c.quizzes_total else "",
        ]
    cert_id, cert_status = certificate_columns(row, stale)
    return line + [
        row.meetings_credited,
        row.face_to_face_hours_text,
        row.certified_ce_hours_text,  # empty for a learner whose licence the approvals do not cover
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
    """The matrix lines, EXPORT_CHUNK at a time; a valid certificate the records no longer match is
    flagged "reissue needed" in its status, as on the CE roster (one statement per batch)."""
    rows = iter_rows(offering)
    while batch := list(islice(rows, EXPORT_CHUNK)):
        facts = valid_facts(r.valid_certificate.public_id for _f, r in batch if r.valid_certificate)
        for _frame, row in batch:
            yield matrix_line(row, stale_summary(row, facts))


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
        # CE hours only of learners who will be certified: a nurse's hours are face-to-face, not CE.
        self.ce_minutes += row.ce_minutes if row.standing.certifiable else 0
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
