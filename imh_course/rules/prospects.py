"""What a learner will actually receive, what they have so far and what is still possible.

The certificate page must not promise a CE certificate to someone who will not get one: a licensee
with no credited minutes and no meetings left gets nothing, a nurse who can no longer meet the
completion policy gets no certificate of completion. These sentences are decided here, from the
learner's :class:`~.ce_standing.CeStanding` and counts, so the page only places them.

Pure: plain values in, a frozen value out.
"""

from __future__ import annotations

from dataclasses import dataclass

from .ce_standing import CeStanding, FaceToFace
from .completion import CompletionStatus
from .text import plural


def _sessions(count: int) -> str:
    return plural(count, "session")


@dataclass(frozen=True)
class Prospects:
    """``receive``: the certificate (or none) this learner is heading for; ``ok``: False when that
    is no certificate at all; ``so_far`` and ``possible``: the counts behind it; ``alert``: what the
    completion policy being out of reach means for this learner (None while it is within reach);
    ``can_attest``: whether there is anything to attest (never zero CE hours)."""

    receive: str
    ok: bool
    so_far: str
    possible: str
    alert: str | None
    can_attest: bool


def prospects(
    standing: CeStanding,
    totals: FaceToFace,
    *,
    credited_minutes: int,
    meetings_credited: int,
    meetings_total: int,
    meetings_remaining: int,
    completion: CompletionStatus,
    min_meetings: int,
) -> Prospects:
    """The learner's prospects in one offering (``totals`` is ``face_to_face`` of the same standing)."""
    needs = f"a certificate of completion needs {min_meetings} of {meetings_total} sessions"
    unit = "CE contact hours" if standing.certifiable else "face-to-face clock hours (not CE)"
    so_far = f"So far: {totals.hours_text} {unit} from {meetings_credited} of {_sessions(meetings_total)}."
    left = (
        f"{_sessions(meetings_remaining).capitalize()} still to come."
        if meetings_remaining
        else "No sessions remain."
    )
    if standing.certifiable:
        alert = None
        if not completion.can_still_complete and (credited_minutes or meetings_remaining):
            alert = (
                f"The completion requirements can no longer be met: {needs}. That does not affect your CE "
                "certificate: it will list the CE contact hours you attend."
            )
        if credited_minutes:
            receive = (
                "You will receive a CE certificate listing the CE contact hours credited from your "
                "attendance."
            )
            possible = (
                f"{left} The hours you attend are added to your CE certificate."
                if meetings_remaining
                else (f"{left} Your CE certificate will list {totals.hours_text} CE contact hours.")
            )
            return Prospects(receive, True, so_far, possible, alert, True)
        if meetings_remaining:
            receive = (
                "No CE hours have been credited yet. A CE certificate lists the hours you attend: attend at "
                f"least one of the {_sessions(meetings_remaining)} still to come to receive one."
            )
            return Prospects(receive, True, so_far, left, alert, False)
        receive = "No CE hours have been credited and no meetings remain: no CE certificate."
        possible = "If your attendance was recorded wrongly, ask the course coordinator to correct it."
        return Prospects(receive, False, so_far, possible, None, False)

    can_attest = credited_minutes > 0 or min_meetings == 0
    if completion.complete or completion.can_still_complete:
        receive = (
            "You will receive a certificate of completion (not CE). It lists your face-to-face clock hours "
            "and independent learning hours; neither is CE credit."
        )
        if completion.complete:
            possible = "You meet the completion requirements."
        else:
            possible = (
                f"{left} {needs[0].upper()}{needs[1:]} (you have {meetings_credited}), every quiz "
                "passed and every reading marked complete."
            )
        return Prospects(receive, True, so_far, possible, None, can_attest)
    alert = (
        f"The completion requirements can no longer be met: {needs}, you have attended {meetings_credited} "
        f"and {meetings_remaining} remain. No certificate of completion can be issued; please talk to the "
        "course coordinator."
    )
    receive = "No certificate: the completion requirements can no longer be met."
    return Prospects(receive, False, so_far, left, alert, can_attest)
