"""Spreadsheet exports: formula neutralisation, streaming CSV, XLSX without formulas."""

import ast
import csv
import io
import re
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

import pytest

import imh_course.documents
from imh_course.documents.exports import UTF8_BOM, csv_stream, safe_cell, safe_sheet_name, xlsx_bytes

DANGEROUS = ["=1+1", "+41 44", "-2+3", "@SUM(A1:A2)", "\t=cmd", "\r=cmd", '=HYPERLINK("http://evil","x")']


class Colour(StrEnum):
    RED = "red"


def read_csv(text: str) -> list[list[str]]:
    assert text.startswith(UTF8_BOM)
    return list(csv.reader(io.StringIO(text[len(UTF8_BOM) :], newline="")))


def sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("xl/worksheets/sheet1.xml").decode("utf-8")


@pytest.mark.parametrize("value", DANGEROUS)
def test_formula_triggers_get_a_leading_apostrophe(value):
    """A string starting with = + - @ TAB or CR is prefixed with ' so no spreadsheet runs it."""
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Zoë", "a=b", "1+1", "", " =x", "SW-0057", "'quoted"])
def test_ordinary_strings_are_unchanged(value):
    """Strings that do not start with a trigger character pass through untouched."""
    assert safe_cell(value) == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, 3),
        (-2, -2),
        (2.5, 2.5),
        (-0.25, -0.25),
        (Decimal("1.50"), 1.5),
        (Decimal("-2"), -2),
        (None, ""),
        (date(2025, 3, 4), "2025-03-04"),
        (datetime(2025, 3, 4, 18, 30, tzinfo=UTC), "2025-03-04T18:30:00+00:00"),
        (True, "True"),
        (Colour.RED, "red"),
        (float("nan"), "nan"),
        (Decimal("Infinity"), "Infinity"),
        (10**30, 10**30),
    ],
)
def test_non_strings_keep_their_meaning(value, expected):
    """Numbers stay numbers (also negative ones), None is blank, dates are ISO, enums use their value."""
    result = safe_cell(value)
    assert result == expected
    assert type(result) is type(expected)


def test_decimal_integral_becomes_int():
    """A whole Decimal becomes an int so spreadsheets show 2, not 2.0."""
    assert type(safe_cell(Decimal("2.00"))) is int


def test_csv_starts_with_bom_then_header_line():
    """The first chunk is the UTF-8 BOM alone, the second the header line ending in CRLF."""
    stream = csv_stream(["Name", "Hours"], [["Zoë", 1]])
    assert next(stream) == UTF8_BOM
    assert next(stream) == '"Name","Hours"\r\n'
    assert next(stream) == '"Zoë","1"\r\n'
    with pytest.raises(StopIteration):
        next(stream)


def test_csv_neutralises_every_cell_including_header():
    """Formula-looking cells (header too) come back from a CSV reader with the ' prefix."""
    rows = read_csv("".join(csv_stream(["=H1", "ok"], [[value, "x"] for value in DANGEROUS])))
    assert rows[0] == ["'=H1", "ok"]
    # every line of a multi-line cell is neutralised too (issue 14 item 7): "\r=cmd" -> "'\r'=cmd"
    assert [row[0] for row in rows[1:]] == [
        "'" + re.sub(r"(\r\n|\n|\r|[,;\t])(?=[=+\-@\t\r])", r"\1'", value) for value in DANGEROUS
    ]


def test_csv_quotes_commas_quotes_and_newlines():
    """Separators, quotes and newlines inside cells survive a round trip through csv.reader."""
    tricky = ["Okafor, Amara", 'She said "hi"', "line one\nline two", None, 1.5]
    rows = read_csv("".join(csv_stream(["a", "b", "c", "d", "e"], [tricky])))
    assert rows[1] == ["Okafor, Amara", 'She said "hi"', "line one\nline two", "", "1.5"]


def test_csv_every_record_ends_with_crlf():
    """Each yielded line is one complete record terminated by CRLF."""
    lines = list(csv_stream(["a"], [["x"], ["y"]]))[1:]
    assert all(line.endswith("\r\n") for line in lines)


def test_csv_stream_is_lazy():
    """Rows are pulled only as lines are requested, so a failing source still yields earlier lines."""
    pulled = []

    def rows():
        for index in range(3):
            pulled.append(index)
            yield [f"row {index}"]
        raise RuntimeError("cursor lost")

    stream = csv_stream(["col"], rows())
    assert pulled == []
    assert [next(stream) for _ in range(5)] == [
        UTF8_BOM,
        '"col"\r\n',
        '"row 0"\r\n',
        '"row 1"\r\n',
        '"row 2"\r\n',
    ]
    assert pulled == [0, 1, 2]
    with pytest.raises(RuntimeError, match="cursor lost"):
        next(stream)


def test_xlsx_stores_formula_looking_strings_as_text():
    """No <f> element anywhere: dangerous strings are stored neutralised as inline strings."""
    xml = sheet_xml(xlsx_bytes(["Name", "=Header"], [[value, 1] for value in DANGEROUS], sheet_name="Roster"))
    assert "<f>" not in xml and "<f " not in xml
    assert "<t>'=1+1</t>" in xml
    assert """<t>'=HYPERLINK("http://evil","x")</t>""" in xml
    assert "<t>'=Header</t>" in xml


def test_xlsx_keeps_numbers_numeric_and_urls_plain():
    """Numbers are numeric cells; URLs are text, not hyperlinks (no relationships file)."""
    data = xlsx_bytes(["Hours", "Link"], [[Decimal("16.50"), "https://example.org/verify/x"]], sheet_name="S")
    xml = sheet_xml(data)
    assert re.search(r'<c r="A2"[^>]*><v>16\.5</v></c>', xml)
    assert "<hyperlinks>" not in xml
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "xl/worksheets/_rels/sheet1.xml.rels" not in archive.namelist()


def test_xlsx_header_is_bold_frozen_and_filtered():
    """Header row uses a bold style, the pane is frozen below it and an autofilter covers the data."""
    data = xlsx_bytes(["Name", "Hours"], [["Zoë", 1], ["Ivan", 2]], sheet_name="Roster")
    xml = sheet_xml(data)
    assert re.search(r'<c r="A1" s="1" t="inlineStr">', xml)
    assert 'state="frozen"' in xml and 'ySplit="1"' in xml
    assert '<autoFilter ref="A1:B3"/>' in xml
    assert "<cols>" in xml
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "<b/>" in archive.read("xl/styles.xml").decode()


def test_xlsx_column_widths_follow_content_within_bounds():
    """Column widths grow with the longest value but stay between the minimum and maximum."""
    xml = sheet_xml(xlsx_bytes(["A", "B"], [["x" * 30, "y" * 500]], sheet_name="S"))
    widths = [float(w) for w in re.findall(r'width="([\d.]+)"', xml)]
    assert 32 <= widths[0] < 33
    assert widths[1] < 61


def test_xlsx_empty_rows_still_valid():
    """With no data rows the workbook still has the header and an autofilter on it."""
    xml = sheet_xml(xlsx_bytes(["Only"], [], sheet_name="Empty"))
    assert "<t>Only</t>" in xml
    assert '<autoFilter ref="A1"/>' in xml


def test_xlsx_streams_many_rows():
    """constant_memory mode writes thousands of rows from a generator."""
    data = xlsx_bytes(["n", "label"], ((i, f"row {i}") for i in range(5000)), sheet_name="Big")
    assert '<c r="A5001"><v>4999</v></c>' in sheet_xml(data)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Roster: spring/2025", "Roster- spring-2025"), ("x" * 40, "x" * 31), ("[]", "--"), ("  ", "Sheet1")],
)
def test_sheet_names_are_made_valid(name, expected):
    """Excel-forbidden characters become '-', names are cut to 31 characters, blanks get a default."""
    assert safe_sheet_name(name) == expected


def test_xlsx_uses_sanitised_sheet_name():
    """A course title with '/' does not crash the export; the sheet gets the cleaned name."""
    data = xlsx_bytes(["a"], [], sheet_name="Spring 2025 / cohort A")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert 'name="Spring 2025 - cohort A"' in archive.read("xl/workbook.xml").decode()


def test_documents_package_is_pure():
    """No module of imh_course.documents imports Flask or SQLAlchemy (plain values in, bytes out)."""
    package = Path(imh_course.documents.__file__).parent
    imported = set()
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    assert imported, "no imports found: wrong directory?"
    assert not imported & {"flask", "flask_sqlalchemy", "sqlalchemy", "werkzeug"}


def test_csv_quotes_every_field_and_neutralises_every_line() -> None:
    """Issue 14 item 7: a formula after a line break, or in an unquoted field, ran in LibreOffice."""
    from imh_course.documents.exports import csv_stream

    text = "".join(csv_stream(["name", "n"], [["a\n=1+1", 3], ["\uff1d1+1", "ok"]]))
    lines = text.lstrip("\ufeff").split("\r\n")
    assert lines[0] == '"name","n"'
    assert lines[1] == '"a\n\'=1+1","3"'
    assert lines[2] == '"\'\uff1d1+1","ok"'
