"""Spreadsheet exports (CSV and XLSX) that are safe to open in Excel, LibreOffice or Sheets.

Rosters and reports contain text typed by learners (names, organisations). A cell starting with
``=``, ``+``, ``-`` or ``@`` is run as a formula by spreadsheet programs, so every cell passes
through :func:`safe_cell` (OWASP "CSV injection" guidance). CSV is produced line by line so a
Flask ``Response`` can stream a large export without building it in memory; XLSX uses
XlsxWriter's ``constant_memory`` mode with formula and URL detection switched off.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, time
from decimal import Decimal
from enum import Enum

import xlsxwriter

UTF8_BOM = "\ufeff"
# OWASP: cells beginning with these characters are interpreted as formulas by spreadsheet programs.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | None

_XLSX_MAX_STRING = 32_767  # Excel's cell limit, in UTF-16 units
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_MIN_WIDTH, _MAX_WIDTH = 8, 60


def safe_cell(value: object) -> Cell:
    """Return ``value`` as a spreadsheet-safe cell.

    Strings starting with a formula trigger get a leading ``'`` so no program evaluates them;
    ``int``/``float``/``Decimal`` stay numeric (``Decimal`` becomes ``int`` or ``float``); NaN
    and infinities become text because spreadsheets cannot store them; ``None`` becomes ``""``;
    dates, datetimes and times become ISO 8601 text; enums use their value; ``bool`` becomes
    ``"True"``/``"False"``. Pass numbers as numbers: the string ``"-1"`` is neutralised too.
    """
    kind = type(value)
    if kind is str:  # fast paths for the cells nearly every row is made of (exact types only)
        return "'" + value if value.startswith(FORMULA_TRIGGERS) else value
    if kind is int:
        return value
    if isinstance(value, Enum):
        value = value.value
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(value)
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, date | time):  # datetime is a date
        return value.isoformat()
    text = str.__str__(value) if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _safe_row(row: Sequence[object]) -> list[Cell]:
    return [safe_cell(value) for value in row]


_LINE_TRIGGER = re.compile(r"(\r\n|\n|\r|[,;\t])(?=[=+\-@\t\r\uff1d\uff0b\uff0d\uff20])")


def _csv_cell(value: object) -> Cell:
    """Like :func:`safe_cell`, and also neutralise every line of a multi-line cell.

    LibreOffice opened with ``;`` as separator evaluates a formula after a line break inside a
    quoted cell, so each line that starts with a trigger (or a fullwidth ＝＋－＠) gets a ``'``.
    Once a line break has thrown its quoting off, a ``;`` (or ``,``, tab) inside the text starts a
    new cell, so a trigger right after one of those separators gets a ``'`` too.
    """
    cell = safe_cell(value)
    if isinstance(cell, str):
        if cell.startswith(("\uff1d", "\uff0b", "\uff0d", "\uff20")):
            cell = "'" + cell
        cell = _LINE_TRIGGER.sub(r"\1'", cell)
    return cell


def csv_stream(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """Yield a UTF-8 BOM, then the header line, then one CSV line (``\\r\\n``) per row, lazily.

    The BOM makes Excel read the file as UTF-8 (names with accents); rows are pulled from
    ``rows`` only as lines are requested, so a database cursor can be streamed straight out.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL)

    def line(values: Sequence[object]) -> str:
        buffer.seek(0)
        buffer.truncate(0)
        writer.writerow([_csv_cell(value) for value in values])
        return buffer.getvalue()

    yield UTF8_BOM
    yield line(header)
    for row in rows:
        yield line(row)


def safe_sheet_name(name: str) -> str:
    """Make ``name`` a valid Excel sheet name (no ``[]:*?/\\``, ≤ 31 characters, not blank)."""
    cleaned = _SHEET_NAME_FORBIDDEN.sub("-", name).strip().strip("'")[:31].strip()
    return cleaned or "Sheet1"


def _utf16_truncate(text: str, limit: int = _XLSX_MAX_STRING) -> str:
    if len(text.encode("utf-16-le")) // 2 <= limit:
        return text
    out, units = [], 0
    for char in text:
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            break
        out.append(char)
    return "".join(out)


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[object]], *, sheet_name: str) -> bytes:
    """Build a one-sheet XLSX: bold frozen header, autofilter, column widths fitted to content.

    Every cell goes through :func:`safe_cell` and is written as a string or a number explicitly,
    with ``strings_to_formulas``/``strings_to_urls``/``strings_to_numbers`` off, so no cell is
    ever a formula here and none becomes one when the sheet is re-saved as CSV elsewhere.
    ``constant_memory`` keeps only one row in memory (rows spill to a temporary file).
    Strings beyond Excel's 32,767-character limit are truncated.
    """
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        output,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    try:
        sheet = workbook.add_worksheet(safe_sheet_name(sheet_name))
        bold = workbook.add_format({"bold": True})
        widths = [0] * len(header)

        def write(row_index: int, values: Sequence[object], cell_format: object = None) -> None:
            for col, raw in enumerate(values):
                cell = safe_cell(raw)
                if isinstance(cell, str):
                    cell = _utf16_truncate(cell)
                    if cell:
                        sheet.write_string(row_index, col, cell, cell_format)
                    shown = max((len(part) for part in cell.splitlines()), default=0)
                else:
                    sheet.write_number(row_index, col, cell, cell_format)
                    shown = len(str(cell))
                if col >= len(widths):
                    widths.extend([0] * (col + 1 - len(widths)))
                widths[col] = max(widths[col], shown)

        write(0, header, bold)
        last_row = 0
        for last_row, row in enumerate(rows, start=1):
            write(last_row, row)
        sheet.freeze_panes(1, 0)
        if widths:
            sheet.autofilter(0, 0, last_row, len(widths) - 1)
        for col, width in enumerate(widths):
            sheet.set_column(col, col, min(max(width + 2, _MIN_WIDTH), _MAX_WIDTH))
    finally:
        workbook.close()
    return output.getvalue()
