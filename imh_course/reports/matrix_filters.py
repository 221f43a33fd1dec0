"""Filtering and sorting the completion matrix's rows, server-side, from the page's query string.

The matrix snapshot keeps each (filter, sort) order it computes with these; ``SORT_KEYS`` also
names the page's sortable columns (an unknown key sorts by name).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .matrix import LearnerRow

NO_LICENSE = "none"

SORT_KEYS: dict[str, Callable[[LearnerRow], object]] = {
    "name": lambda r: r.learner.name.casefold(),
    "license": lambda r: ((r.learner.license_type or "~").casefold(), r.learner.name.casefold()),
    "sessions": lambda r: (r.meetings_credited, r.learner.name.casefold()),
    "ce": lambda r: (r.ce_minutes, r.learner.name.casefold()),
    "independent": lambda r: (r.independent_minutes, r.learner.name.casefold()),
    "certificate": lambda r: (r.certificate_status, r.learner.name.casefold()),
    "status": lambda r: (r.learner.status.value, r.learner.name.casefold()),
}


def filter_rows(
    rows: Iterable[LearnerRow], *, license_type: str = "", at_risk: bool = False, not_issued: bool = False
) -> list[LearnerRow]:
    """``license_type``: "" for all, "none" for learners without one, else the exact type."""
    kept = []
    for row in rows:
        held = row.learner.license_type
        if license_type == NO_LICENSE and held not in (None, "", "None"):
            continue
        if license_type not in ("", NO_LICENSE) and held != license_type:
            continue
        if at_risk and not row.at_risk:
            continue
        if not_issued and row.valid_certificate is not None:
            continue
        kept.append(row)
    return kept


def sort_rows(rows: Iterable[LearnerRow], key: str = "name", descending: bool = False) -> list[LearnerRow]:
    return sorted(rows, key=SORT_KEYS.get(key, SORT_KEYS["name"]), reverse=descending)
