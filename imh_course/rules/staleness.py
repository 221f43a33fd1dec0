"""Whether a valid certificate still says what the records say: the "reissue needed" rule.

A certificate is a frozen snapshot (``documents.certificate.CertificateFacts``): it keeps saying
what was true at issue, on the PDF and on /verify, whatever happens later. When the records behind
it change — an attendance correction, a re-timed meeting, a new licence on the profile, a changed
board approval — a certificate issued *now* would say something else. Staff must see that ("certified
16.50 CE hours; records now 15.00 — reissue needed") and decide; the learner's documents stay as
issued until the coordinator reissues.

:func:`record_now` is what a certificate issued now would certify (``certificate_facts`` builds the
snapshot from it, so the two cannot drift apart); :func:`staleness` compares. Pure: no Flask, no
database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from .ce_standing import CE_LABEL, CE_SHORT_LABEL
from .completion import CertificateKind
from .licenses import BOARD_LABELS, Approval

#: the unit of a certificate of completion's hours, where a CE certificate says "CE hours"
CLOCK_SHORT_LABEL = "face-to-face clock hours (not CE)"
REISSUE = "reissue needed"

#: what each compared field is called in a list of differences
FIELD_LABELS: dict[str, str] = {
    "kind": "Certificate type",
    "ce_hours": CE_LABEL,
    "face_to_face_hours": "Face-to-face clock hours",
    "license_type": "License type",
    "license_number": "License number",
    "board_name": "Board approval",
    "provider_number": "Provider number",
    "approval_statement": "Approval statement",
}
KIND_LABELS = {CertificateKind.CE: "CE certificate", CertificateKind.COMPLETION: "certificate of completion"}


@dataclass(frozen=True)
class CertifiedRecord:
    """The facts of a certificate that later records can change (its name, dates and signatory are
    not compared: they are the document's, not the ledger's)."""

    kind: CertificateKind
    ce_hours: str | None
    face_to_face_hours: str
    license_type: str | None
    license_number: str | None
    board_name: str | None
    provider_number: str | None
    approval_statement: str | None

    @classmethod
    def from_facts(cls, facts: Mapping[str, Any]) -> CertifiedRecord | None:
        """From a stored snapshot (``CertificateFacts.to_dict()``, as kept in the database); None
        for a snapshot that is not one (no known kind): nothing to compare, /verify says so."""
        values = {f.name: facts.get(f.name) for f in fields(cls)} if isinstance(facts, Mapping) else {}
        try:
            values["kind"] = CertificateKind(values.get("kind"))
        except ValueError:
            return None
        return cls(**values)


def record_now(
    kind: CertificateKind,
    approval: Approval | None,
    *,
    license_type: str | None,
    license_number: str | None,
    ce_hours: str,
    face_to_face_hours: str,
) -> CertifiedRecord:
    """What a ``kind`` certificate issued from today's records would certify: CE hours, licence and
    approval only on a CE certificate (a certificate of completion prints none of them)."""
    ce = kind is CertificateKind.CE and approval is not None
    return CertifiedRecord(
        kind=kind,
        ce_hours=ce_hours if ce else None,
        face_to_face_hours=face_to_face_hours,
        license_type=license_type if ce else None,
        license_number=license_number if ce else None,
        board_name=BOARD_LABELS[approval.board] if ce and approval else None,
        provider_number=approval.provider_number if ce and approval else None,
        approval_statement=approval.statement if ce and approval else None,
    )


@dataclass(frozen=True)
class Difference:
    """One certified fact that the records no longer support."""

    field: str
    label: str
    certified: str  # "" when the certificate had none
    now: str  # "" when a certificate issued now would have none

    @property
    def text(self) -> str:
        """ "CE contact hours: 16.50 → 15.00"."""
        return f"{self.label}: {self.certified or 'none'} → {self.now or 'none'}"


def _shown(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, CertificateKind):
        return KIND_LABELS[value]
    return str(value)


def _hours(record: CertifiedRecord) -> str:
    """ "16.50 CE hours" or "16.50 face-to-face clock hours (not CE)": what the certificate counts."""
    if record.kind is CertificateKind.CE:
        return f"{record.ce_hours} {CE_SHORT_LABEL}"
    return f"{record.face_to_face_hours} {CLOCK_SHORT_LABEL}"


@dataclass(frozen=True)
class Staleness:
    """A valid certificate against today's records: ``differences`` empty means it still holds."""

    certified: CertifiedRecord
    now: CertifiedRecord
    differences: tuple[Difference, ...]

    @property
    def stale(self) -> bool:
        return bool(self.differences)

    @property
    def summary(self) -> str:
        """ "certified 16.50 CE hours; records now 15.00 — reissue needed" ("" when not stale)."""
        if not self.stale:
            return ""
        certified, now = self.certified, self.now
        if certified.kind is not now.kind:
            gives = f"a {KIND_LABELS[now.kind]} ({_hours(now)})"
            return f"certified {_hours(certified)}; records now give {gives} — {REISSUE}"
        before, after = (
            (certified.ce_hours, now.ce_hours)
            if certified.kind is CertificateKind.CE
            else (certified.face_to_face_hours, now.face_to_face_hours)
        )
        if before != after:
            return f"certified {_hours(certified)}; records now {after} — {REISSUE}"
        changed = ", ".join(d.label.lower() for d in self.differences)
        return f"certified {_hours(certified)}; records now differ ({changed}) — {REISSUE}"

    @property
    def sentence(self) -> str:
        """The summary as a sentence of its own ("Certified 16.50 CE hours; …")."""
        return self.summary[:1].upper() + self.summary[1:]


def staleness(certified: CertifiedRecord, now: CertifiedRecord) -> Staleness:
    """Compare a certificate's snapshot with what a certificate issued now would certify."""
    differences = tuple(
        Difference(
            f.name, FIELD_LABELS[f.name], _shown(getattr(certified, f.name)), _shown(getattr(now, f.name))
        )
        for f in fields(CertifiedRecord)
        if getattr(certified, f.name) != getattr(now, f.name)
    )
    return Staleness(certified, now, differences)
