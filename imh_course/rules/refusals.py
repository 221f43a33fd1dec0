"""Why a certificate cannot be issued yet, worded for whoever reads it.

The same refusal reaches two readers: the learner ("Submit the course evaluation") and the
coordinator who tried to issue or reissue ("Lena M. has not submitted the course evaluation"). A
:class:`Reason` carries a stable code and both texts. It *is* the learner's text (a ``str``), so
learner pages, the completion rules and their tests keep comparing plain strings; staff surfaces
ask for :meth:`Reason.for_staff` with the learner's name, and never print the reason itself.

Pure: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from .text import plural

#: where a staff text puts the learner's name
NAME = "{name}"


class ReasonCode(StrEnum):
    EVALUATION_MISSING = "evaluation_missing"
    ATTESTATION_MISSING = "attestation_missing"
    ATTESTATION_STALE = "attestation_stale"
    NO_CE_MINUTES = "no_ce_minutes"
    INCOMPLETE = "incomplete"
    SESSIONS_MISSING = "sessions_missing"
    QUIZZES_MISSING = "quizzes_missing"
    READINGS_MISSING = "readings_missing"
    LICENSE_NUMBER_MISSING = "license_number_missing"


class Reason(str):
    """One refusal reason: the learner's text (the string's value), its ``code`` and the ``staff``
    text, in which :data:`NAME` stands for the learner's name."""

    code: ReasonCode
    staff: str

    def __new__(cls, code: ReasonCode, learner: str, staff: str) -> Reason:
        if NAME not in staff:
            raise ValueError(f"a staff text names the learner ({NAME}): {staff!r}")
        reason = super().__new__(cls, learner)
        reason.code = code
        reason.staff = staff
        return reason

    @property
    def learner(self) -> str:
        return str.__str__(self)

    def for_staff(self, name: str) -> str:
        """The reason as a coordinator reads it, naming the learner (any characters are safe)."""
        return self.staff.replace(NAME, name)

    def __reduce__(self) -> tuple[object, ...]:  # str's own would drop the code and staff text
        return (Reason, (self.code, self.learner, self.staff))


def staff_reasons(name: str, reasons: Iterable[str]) -> tuple[str, ...]:
    """Each reason as staff read it; a plain string (no staff text known) is kept as it is."""
    return tuple(r.for_staff(name) if isinstance(r, Reason) else r for r in reasons)


EVALUATION_MISSING = Reason(
    ReasonCode.EVALUATION_MISSING,
    "Submit the course evaluation",
    "{name} has not submitted the course evaluation",
)
ATTESTATION_MISSING = Reason(
    ReasonCode.ATTESTATION_MISSING,
    "Attest that your recorded attendance is accurate",
    "{name} has not attested their recorded attendance",
)
ATTESTATION_STALE = Reason(
    ReasonCode.ATTESTATION_STALE,
    "Your recorded attendance changed after you attested: review it and attest again",
    "{name} has not re-attested since their attendance changed",
)
NO_CE_MINUTES = Reason(
    ReasonCode.NO_CE_MINUTES,
    "No CE-eligible attendance has been credited",
    "{name} has no CE-eligible attendance credited",
)
INCOMPLETE = Reason(
    ReasonCode.INCOMPLETE,
    "Meet the course completion requirements",
    "{name} has not met the course completion requirements",
)
LICENSE_NUMBER_MISSING = Reason(
    ReasonCode.LICENSE_NUMBER_MISSING,
    "Add your license number to your profile (it is printed on the CE certificate)",
    "No license number on file for {name} (it is printed on the CE certificate)",
)


def sessions_missing(credited: int, needed: int) -> Reason:
    more = plural(needed - credited, "more session")
    return Reason(
        ReasonCode.SESSIONS_MISSING,
        f"Attend {more} ({credited} of {needed} needed)",
        f"{NAME} needs {more} credited ({credited} of {needed} needed)",
    )


def quizzes_missing(count: int) -> Reason:
    quizzes = plural(count, "quiz", "quizzes")
    return Reason(ReasonCode.QUIZZES_MISSING, f"Pass {quizzes}", f"{NAME} has {quizzes} still to pass")


def readings_missing(count: int) -> Reason:
    readings = plural(count, "reading")
    return Reason(
        ReasonCode.READINGS_MISSING,
        f"Mark {readings} complete",
        f"{NAME} has {readings} not marked complete",
    )
