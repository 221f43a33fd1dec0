"""Reading a roster CSV: every problem reported with its line number, before anything is imported.

Columns (any order, case and spacing ignored): name, email, discipline, license type, license
number, funding. The file may be saved by Excel ("CSV UTF-8" adds a byte-order mark; some locales
separate with semicolons). Pure: bytes in, rows and problems out; no database.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from ..models.offerings import FUNDING_LABELS, Funding
from ..rules.licenses import LICENSE_TYPES, validate_license_number
from ..rules.text import control_character_in, joined, noun_for, plural

COLUMNS = ("name", "email", "discipline", "license type", "license number", "funding")
REQUIRED = ("name", "email")
MAX_BYTES = 1_000_000
MAX_LINES = 2_000
_EMAIL = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+")
#: license types a roster may name (the forms' choices); "None" is the blank column, "no license"
LICENSE_WORDS = tuple(t for t in LICENSE_TYPES if t != "None")
_LICENSES = {t.casefold(): t for t in LICENSE_WORDS}
_NO_LICENSE = {"none", "no license"}
#: what a coordinator may type in the funding column: the forms' labels (``FUNDING_LABELS``), the
#: stored values ("grant_funded" reads as "grant funded") and two short forms
FUNDING_WORDS = {
    **{" ".join(label.replace("-", " ").split()).casefold(): f for f, label in FUNDING_LABELS.items()},
    "grant": Funding.GRANT_FUNDED,
    "group": Funding.GROUP_RATE,
}
#: the accepted values in words, for the import page and its messages
LICENSE_HELP = f"{joined(LICENSE_WORDS, 'or')}, or leave it empty for no license"
FUNDING_HELP = f"{joined(FUNDING_LABELS.values(), 'or')}, or leave it empty for full fee"


@dataclass(frozen=True)
class LearnerData:
    """One learner to enrol, as typed by the coordinator or read from a roster line."""

    name: str
    email: str
    discipline: str | None = None
    license_type: str | None = None
    license_number: str | None = None
    funding: Funding = Funding.FULL_FEE


@dataclass(frozen=True)
class RosterLine:
    line: int
    data: LearnerData


@dataclass(frozen=True)
class RowProblem:
    """``line`` is the file's line number (1 = the header), None for the file as a whole."""

    line: int | None
    reason: str

    def __str__(self) -> str:
        return self.reason if self.line is None else f"Line {self.line}: {self.reason}"


def _words(value: str) -> str:
    return " ".join(value.replace("_", " ").replace("-", " ").split()).casefold()


def parse_funding(value: str) -> Funding | None:
    """A funding type from its value or label ("grant_funded", "Grant-funded"); blank = full fee."""
    words = _words(value)
    if not words:
        return Funding.FULL_FEE
    return FUNDING_WORDS.get(words)


def learner_problems(data: LearnerData) -> list[tuple[str, str]]:
    """(field, message) for every problem of one learner's data, in column order."""
    problems = []
    if not data.name.strip():
        problems.append(("name", "The name is missing."))
    elif len(data.name) > 200:
        problems.append(("name", "The name is longer than 200 characters."))
    if not data.email:
        problems.append(("email", "The email is missing."))
    elif len(data.email) > 254 or not _EMAIL.fullmatch(data.email):
        problems.append(("email", f"“{data.email}” is not a valid email address."))
    if data.discipline and len(data.discipline) > 120:
        problems.append(("discipline", "The discipline is longer than 120 characters."))
    if data.license_type is None:
        if data.license_number:
            problems.append(("license_number", "A license number needs a license type."))
    else:
        problem = validate_license_number(data.license_type, data.license_number or "", own=False)
        if problem:
            problems.append(("license_number", problem))
    return problems


def _decode(raw: bytes) -> tuple[str | None, RowProblem | None]:
    if len(raw) > MAX_BYTES:
        return None, RowProblem(None, f"The file is larger than {MAX_BYTES // 1_000_000} MB.")
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, RowProblem(
            line, "The file is not UTF-8 text. In Excel choose Save As › “CSV UTF-8 (Comma delimited)”."
        )


def _header(cells: list[str], line: int) -> tuple[list[str], list[RowProblem]]:
    names = [_words(c) for c in cells]
    problems = []
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        column = noun_for(len(missing), "column")
        problems.append(RowProblem(line, f"The header has no {joined(missing)} {column}."))
    extra = [c.strip() or "(blank)" for c, n in zip(cells, names, strict=True) if n not in COLUMNS]
    if extra:
        column = noun_for(len(extra), "column")
        problems.append(
            RowProblem(line, f"Unexpected {column}: {joined(extra)}. The columns are {joined(COLUMNS)}.")
        )
    repeated = sorted({n for n in names if n in COLUMNS and names.count(n) > 1})
    if repeated:
        column = noun_for(len(repeated), "column")
        appear = "appears" if len(repeated) == 1 else "appear"
        problems.append(RowProblem(line, f"The {joined(repeated)} {column} {appear} twice."))
    return names, problems


def _line_data(values: dict[str, str], line: int) -> tuple[LearnerData | None, list[RowProblem]]:
    problems = []
    license_type: str | None = None
    typed = values["license type"]
    if " ".join(typed.split()).casefold() in _NO_LICENSE:
        typed = ""
    if typed:
        license_type = _LICENSES.get(typed.casefold())
        if license_type is None:
            problems.append(
                RowProblem(line, f"License type “{typed}” is not one we know: use {LICENSE_HELP}.")
            )
    funding = parse_funding(values["funding"])
    if funding is None:
        problems.append(
            RowProblem(line, f"Funding “{values['funding']}” is not one we know: use {FUNDING_HELP}.")
        )
    data = LearnerData(
        name=values["name"],
        email=values["email"].lower(),
        discipline=values["discipline"] or None,
        license_type=license_type,
        license_number=values["license number"] or None,
        funding=funding or Funding.FULL_FEE,
    )
    # With an unknown licence type, its number cannot be checked: the type is reported instead.
    known = data if typed == "" or license_type else LearnerData(data.name, data.email, data.discipline)
    checks = learner_problems(known)
    problems += [RowProblem(line, message) for _field, message in checks]
    return (None if problems else data), problems


def parse_roster(raw: bytes) -> tuple[list[RosterLine], list[RowProblem]]:
    """Rows to enrol and every problem found; the rows are usable only when there are no problems."""
    text, problem = _decode(raw)
    if problem is not None or text is None:
        return [], [problem] if problem else []
    first = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    lines: list[RosterLine] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    names: list[str] | None = None
    start = 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            if names is None:
                names, header_problems = _header(cells, line)
                if header_problems:
                    return [], header_problems
                continue
            if len(cells) != len(names):
                problems.append(
                    RowProblem(
                        line,
                        f"This line has {plural(len(cells), 'value')} "
                        f"but the header has {plural(len(names), 'column')}.",
                    )
                )
                continue
            values = {n: c.strip() for n, c in zip(names, cells, strict=True)}
            controls = [n for n, c in values.items() if control_character_in(c, multiline=True)]
            if controls:
                column = noun_for(len(controls), "column")
                contains = "contains" if len(controls) == 1 else "contain"
                problems.append(
                    RowProblem(
                        line,
                        f"The {joined(controls)} {column} {contains} a control character (such as a NUL "
                        "byte); remove it and upload again.",
                    )
                )
                continue
            data, row_problems = _line_data(values, line)
            problems += row_problems
            email = values["email"].lower()
            if email and email in seen:
                problems.append(
                    RowProblem(line, f"The email {email} appears again (first on line {seen[email]}).")
                )
            elif email:
                seen[email] = line
            if data is not None:
                lines.append(RosterLine(line, data))
            if len(seen) > MAX_LINES:
                return [], [RowProblem(None, f"The file has more than {MAX_LINES:,} learners; split it.")]
    except csv.Error:  # Python's wording ("',' expected after '\"'") is no help to a coordinator
        problems.append(
            RowProblem(
                reader.line_num or 1,
                "This line cannot be read as CSV: check its quotation marks, then save the file "
                "as CSV again.",
            )
        )
    if names is None:
        problems.append(
            RowProblem(None, f"The file is empty: its first line must name the columns {joined(COLUMNS)}.")
        )
    elif not lines and not problems:
        problems.append(RowProblem(None, "The file lists no learners."))
    return lines, problems
