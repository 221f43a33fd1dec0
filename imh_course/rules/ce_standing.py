"""What the face-to-face ledger *is* for one learner in one offering: CE, or clock hours that are not CE.

The same attended meetings are "CE contact hours" for a licensee whose licence one of the offering's
board approvals covers, and plain face-to-face clock hours for everyone else (an RN, an LCAT in an
offering approved by the social work board only, someone with no licence on file). Every surface
that shows the face-to-face ledger — the learner's pages, the coordinator's matrix and exports,
documents — takes its label and its numbers from :func:`ce_standing` and :func:`face_to_face`, and
the certificate's kind comes from the same decision, so a page can never call hours "CE" that will
not be certified. Independent learning is a separate ledger and is never CE (``rules.credit``).

Pure: plain values in, frozen values out (no Flask, no database).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from .completion import CertificateKind
from .credit import CreditPolicy, format_hours, minutes_to_hours
from .licenses import BOARD_LABELS, BOARD_LICENSES, Approval, Board, approval_for

CE_LABEL = "CE contact hours"
CE_SHORT_LABEL = "CE hours"
NOT_CE_SHORT_LABEL = "Face-to-face hours (not CE)"
#: licence types on a profile that mean "no licence" (the form offers "None")
NO_LICENSE = frozenset({"", "None"})
PROFILE_HINT = (
    "If the license on your profile is wrong, correct it in your profile: the certificate follows "
    "the license on file."
)
#: Face-to-face and independent clock hours are 60-minute hours, whatever the CE minutes per hour.
CLOCK = CreditPolicy(minutes_per_hour=60)


@dataclass(frozen=True)
class CeStanding:
    """The decision for one learner: whether their face-to-face hours are CE, and how to say so.

    ``label`` heads a total ("CE contact hours: 16.50"); ``short_label`` heads a column;
    ``reason`` says why (which approvals the offering holds); ``hint`` what to do if the licence on
    file is wrong (empty when CE applies).
    """

    certifiable: bool
    license_type: str | None
    approval: Approval | None
    label: str
    short_label: str
    reason: str
    hint: str
    #: what the offering's approvals cover ("LCSW, LMSW (NYS State Board for Social Work)"), or ""
    covered: str = ""

    @property
    def staff_reason(self) -> str:
        """The reason, written for a coordinator (the learner's ``reason`` says "your")."""
        held = f"License on file: {self.license_type}." if self.license_type else "No license on file."
        offered = (
            f"This offering's approvals cover {self.covered}."
            if self.covered
            else "This offering holds no CE board approval."
        )
        return f"{held} {offered}"

    @property
    def kind(self) -> CertificateKind:
        """The certificate this learner can receive: CE, or a certificate of completion."""
        return CertificateKind.CE if self.certifiable else CertificateKind.COMPLETION

    @property
    def minutes_label(self) -> str:
        """The heading of a per-session column of credited minutes."""
        return "CE minutes credited" if self.certifiable else "Minutes credited (not CE)"


def _license(license_type: str | None) -> str | None:
    # Exactly as stored (no stripping, no case folding): coverage must match approval_for's.
    return None if license_type is None or license_type in NO_LICENSE else license_type


def approvals_cover(approvals: Iterable[Approval]) -> str:
    """ "LCSW, LMSW (NYS State Board for Social Work)": the licences each approval covers."""
    parts = [
        f"{', '.join(sorted(BOARD_LICENSES[a.board]))} ({BOARD_LABELS[a.board]})"
        for a in sorted(approvals, key=lambda a: list(Board).index(a.board))
    ]
    return "; ".join(parts)


def ce_standing(license_type: str | None, approvals: Iterable[Approval]) -> CeStanding:
    """Decide what the face-to-face ledger is for a learner holding ``license_type`` (None: none on
    file) in an offering holding ``approvals``. Coverage is ``licenses.approval_for``'s, exactly."""
    approvals = tuple(approvals)
    held = _license(license_type)
    approval = approval_for(held, approvals)
    covered = approvals_cover(approvals)
    if approval is not None:
        return CeStanding(
            certifiable=True,
            license_type=held,
            approval=approval,
            label=CE_LABEL,
            short_label=CE_SHORT_LABEL,
            reason=f"Your license ({held}) is covered by this offering's approval from the "
            f"{BOARD_LABELS[approval.board]}.",
            hint="",
            covered=covered,
        )
    offered = (
        f"This offering's approvals cover {covered}."
        if covered
        else "This offering holds no CE board approval."
    )
    if held is None:
        label = "Face-to-face clock hours — not CE (no license on file)"
        reason = f"No license is on file for you. {offered}"
    else:
        label = f"Face-to-face clock hours — not CE for your license ({held})"
        reason = f"Your license on file is {held}. {offered}"
    return CeStanding(
        certifiable=False,
        license_type=held,
        approval=None,
        label=label,
        short_label=NOT_CE_SHORT_LABEL,
        reason=reason,
        hint=PROFILE_HINT,
        covered=covered,
    )


@dataclass(frozen=True)
class FaceToFace:
    """The face-to-face ledger's total as this learner's standing says it: CE contact hours
    (credited minutes under the credit policy) or face-to-face clock hours (attended minutes, the
    number a certificate of completion prints)."""

    standing: CeStanding
    hours: Decimal
    scheduled_hours: Decimal
    minutes: int
    scheduled_minutes: int

    @property
    def label(self) -> str:
        return self.standing.label

    @property
    def hours_text(self) -> str:
        return format_hours(self.hours)

    @property
    def scheduled_text(self) -> str:
        return format_hours(self.scheduled_hours)

    @property
    def ce_hours_text(self) -> str:
        """The CE hours for a CE column: empty unless CE will be certified."""
        return self.hours_text if self.standing.certifiable else ""


def face_to_face(
    standing: CeStanding,
    *,
    credited_minutes: int,
    attended_minutes: int,
    scheduled_ce_minutes: int,
    scheduled_minutes: int,
    policy: CreditPolicy,
) -> FaceToFace:
    """The total and what was scheduled, in the unit the standing calls for."""
    if standing.certifiable:
        return FaceToFace(
            standing,
            minutes_to_hours(credited_minutes, policy),
            minutes_to_hours(scheduled_ce_minutes, policy),
            credited_minutes,
            scheduled_ce_minutes,
        )
    return FaceToFace(
        standing,
        minutes_to_hours(attended_minutes, CLOCK),
        minutes_to_hours(scheduled_minutes, CLOCK),
        attended_minutes,
        scheduled_minutes,
    )
