"""New York licence types, the boards that approve CE providers, and who may get a CE certificate.

A CE certificate is valid only for a licence governed by a board that approved the provider for
the offering; everyone else receives a certificate of completion. Numbers are validated, never
"fixed": a silently corrected licence number on a certificate is worse than an error message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class Board(StrEnum):
    """NYS State Boards that approve CE providers (approval is per board, not per licence)."""

    SOCIAL_WORK = "social_work"
    MENTAL_HEALTH = "mental_health"


BOARD_LABELS: dict[Board, str] = {
    Board.SOCIAL_WORK: "NYS State Board for Social Work",
    Board.MENTAL_HEALTH: "NYS State Board for Mental Health Practitioners",
}

#: Licences each board governs; LMFT and LP share the mental health board's CE rules.
BOARD_LICENSES: Mapping[Board, frozenset[str]] = MappingProxyType(
    {
        Board.SOCIAL_WORK: frozenset({"LMSW", "LCSW"}),
        Board.MENTAL_HEALTH: frozenset({"LMHC", "LCAT", "LMFT", "LP"}),
    }
)

#: Choices offered to a learner, CE-eligible licences first.
LICENSE_TYPES: tuple[str, ...] = ("LMSW", "LCSW", "LMHC", "LCAT", "LMFT", "LP", "RN", "Other", "None")

_CE_LICENSES = frozenset().union(*BOARD_LICENSES.values())
# [0-9], not \d: \d also matches Arabic-Indic and other Unicode digits.
_LICENSE_NUMBER = re.compile(r"[0-9]{6}")
_PROVIDER_NUMBER: Mapping[Board, tuple[re.Pattern[str], str]] = MappingProxyType(
    {
        Board.SOCIAL_WORK: (re.compile(r"SW-[0-9]{4}"), "SW-0057"),
        Board.MENTAL_HEALTH: (re.compile(r"MHC-[0-9]{4}"), "MHC-0048"),
    }
)


@dataclass(frozen=True)
class Approval:
    """A board's approval of the provider for an offering; printed on every CE certificate."""

    board: Board
    provider_number: str
    statement: str


def certifiable_license_types(approvals: Iterable[Approval]) -> frozenset[str]:
    """Licence types that can receive a CE certificate given an offering's board approvals."""
    return frozenset().union(*(BOARD_LICENSES[a.board] for a in approvals))


def approval_for(license_type: str | None, approvals: Iterable[Approval]) -> Approval | None:
    """The approval covering ``license_type`` (first match), or None: then only completion applies.

    Matching is exact against ``LICENSE_TYPES``; a free-text "lcsw" is not guessed at.
    """
    if license_type is None:
        return None
    for approval in approvals:
        if license_type in BOARD_LICENSES[approval.board]:
            return approval
    return None


def validate_provider_number(board: Board, number: str) -> str | None:
    """Error message if ``number`` is not in the board's format (SW-0057 / MHC-0048), else None."""
    pattern, example = _PROVIDER_NUMBER[board]
    if pattern.fullmatch(number):
        return None
    return f"{BOARD_LABELS[board]} provider numbers look like {example}."


def validate_license_number(license_type: str, number: str, *, own: bool = True) -> str | None:
    """Error message if ``number`` does not fit ``license_type``, else None.

    NY licence numbers are 6 digits, leading zeros included. CE licences require one, since it is
    printed on the certificate. RN may give one (same form) or leave it empty; "Other" may enter
    any identifier or none; "None" must leave it empty. Whitespace is not stripped here.
    ``own=False`` words the message for a coordinator entering someone else's licence.
    """
    if license_type not in LICENSE_TYPES:
        return f"Choose a license type from {', '.join(LICENSE_TYPES[:-1])} or none."
    if license_type == "Other":
        return None
    if license_type == "None":
        if number == "":
            return None
        return (
            "Leave the license number empty if you hold no license."
            if own
            else ("Leave the license number empty for a learner with no license.")
        )
    if number == "" and license_type == "RN":
        return None
    if number == "":
        whose = "your" if own else "the learner's"
        return f"Enter {whose} 6-digit New York {license_type} license number."
    if _LICENSE_NUMBER.fullmatch(number):
        return None
    return "New York license numbers are exactly 6 digits, for example 012345."


def license_label(license_type: str | None) -> str:
    """How pages name a stored license type: the profile's "None" and a blank both read "No license"."""
    if not license_type or license_type == "None":
        return "No license"
    return license_type
