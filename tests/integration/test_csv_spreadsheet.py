"""CSV exports opened by a real spreadsheet engine (LibreOffice Calc): no cell is a formula.

Issue 14 item 7: LibreOffice opened with ``;`` as separator ran ``=1+1`` from a CSV, also after a
line break in a name. The unit tests check the bytes; this opens the CE roster, completion matrix,
funder report and training log, as downloaded through the views, with Debian's
``libreoffice-calc-nogui`` (``soffice --headless --convert-to fods``) with ``,`` and ``;`` as
separator, and reads every cell of the flat ODF back. Skips when soffice is missing, unless
IMH_REQUIRE_BROWSER=1 (CI), where that is a failure.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import pytest

from imh_course.extensions import db
from imh_course.models import User
from tests.conftest import TEST_PASSWORD
from tests.integration.coordinator_helpers import enrol_many, give_records

SOFFICE = os.environ.get("IMH_SOFFICE") or shutil.which("soffice") or shutil.which("libreoffice")

# What hostile learners and staff type: formulas, sign prefixes, separators, line breaks, fullwidth.
HOSTILE = (
    "=1+1",
    "=2*21",
    "+1",
    "-1",
    "@SUM(1)",
    "Ann;=1+1",
    "Ann,=2*21",
    "Ann\n=1+1",
    "Ann\r\n=2*21",
    'Ann;"x\n=1+1',
    "Ann\n+1\n-1\n@SUM(1)",
    "\t=1+1",
    "\r=1+1",
    "\uff1d1+1",
)

NS = {
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
}
_T, _X, _O = (f"{{{NS[k]}}}" for k in ("table", "text", "office"))
# What Calc may turn into a number or date: counts, hours, ISO dates, "2/2" readings done.
_PLAIN = re.compile(r"-?\d+(\.\d+)?|\d{4}-\d{2}-\d{2}|\d+/\d+|")


def _soffice() -> str:
    if SOFFICE is None:
        reason = "LibreOffice not found: install it with `apt-get install -y libreoffice-calc-nogui`"
        if os.environ.get("IMH_REQUIRE_BROWSER"):
            pytest.fail(reason)  # CI must not skip the real-consumer proof
        pytest.skip(reason)
    return SOFFICE


def _paragraph_text(element: ElementTree.Element) -> str:
    parts = [element.text or ""]
    for child in element:
        if child.tag == _X + "s":
            parts.append(" " * int(child.get(_X + "c", "1")))
        elif child.tag == _X + "tab":
            parts.append("\t")
        elif child.tag == _X + "line-break":
            parts.append("\n")
        else:
            parts.append(_paragraph_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def read_fods(path: Path) -> list[list[dict[str, str | None]]]:
    """Every row of the first sheet: each cell's text, value type and formula (None: not one)."""
    sheet = ElementTree.parse(path).getroot()  # noqa: S314 (our own soffice output).find(".//table:table", NS)
    assert sheet is not None, f"no sheet in {path.name}"
    rows = []
    for row in sheet.iter(_T + "table-row"):
        cells = []
        for cell in row:
            if cell.tag not in (_T + "table-cell", _T + "covered-table-cell"):
                continue
            info = {
                "text": "\n".join(_paragraph_text(p) for p in cell.findall("text:p", NS)),
                "type": cell.get(_O + "value-type"),
                "formula": cell.get(_T + "formula"),
            }
            repeat = int(cell.get(_T + "number-columns-repeated", "1"))
            cells.extend([info] * (repeat if info["text"] or repeat < 100 else 1))
        while cells and not cells[-1]["text"]:
            cells.pop()
        if cells:
            rows.append(cells)
    return rows


def convert(files: list[Path], separator: str, workdir: Path) -> dict[str, Path]:
    """Open every CSV with ``separator`` in one soffice run (isolated profile); flat ODF out."""
    outdir = workdir / f"out-{ord(separator)}"
    profile = (workdir / "lo-profile").as_uri()
    command = [
        _soffice(),
        f"-env:UserInstallation={profile}",
        "--headless",
        "--norestore",
        f"--infilter=CSV:{ord(separator)},34,76,1",
        "--convert-to",
        "fods",
        "--outdir",
        str(outdir),
        *map(str, files),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=180)
    out = {f.name: outdir / (f.stem + ".fods") for f in files}
    missing = [name for name, path in out.items() if not path.exists()]
    assert not missing, f"soffice did not convert {missing}"
    return out


@pytest.fixture
def hostile(demo):
    """Learners whose certificate name, licence number and discipline are hostile; the instructor's
    name too (it is a trainer in the training log of the LCSW, who attended 3 meetings)."""
    ids = enrol_many(demo.offering_id, len(HOSTILE), prefix="hostile")
    for n, (user_id, value) in enumerate(zip(ids, HOSTILE, strict=True)):
        user = db.session.get(User, user_id)
        user.profile.certificate_name = value
        user.profile.license_number = HOSTILE[(n + 1) % len(HOSTILE)]
        user.profile.discipline = f"{value} {n}" if n % 2 else value
    db.session.get(User, demo.instructor_id).full_name = "=2*21\n-1;=1+1"
    db.session.commit()
    give_records(demo.offering_id, demo.lcsw_id, attended=3)
    return demo


def _download(client, url: str, target: Path) -> Path:  # noqa: ANN001
    response = client.get(url)
    assert response.status_code == 200, url
    target.write_bytes(response.get_data())
    return target


def _exports(app, hostile, workdir: Path) -> list[Path]:  # noqa: ANN001
    coordinator = app.test_client()
    coordinator.post("/login", data={"email": "coordinator@example.org", "password": TEST_PASSWORD})
    base = f"/staff/offerings/{hostile.offering_id}/exports"
    files = [
        _download(coordinator, f"{base}/ce-roster.csv", workdir / "ce-roster.csv"),
        _download(coordinator, "/staff/exports/ce-roster.csv", workdir / "ce-roster-all.csv"),
        _download(coordinator, f"{base}/completion-matrix.csv", workdir / "completion-matrix.csv"),
        _download(coordinator, f"{base}/funder-report.csv", workdir / "funder-report.csv"),
    ]
    learner = app.test_client()
    learner.post("/login", data={"email": "lcsw@example.org", "password": TEST_PASSWORD})
    url = f"/learn/offerings/{hostile.offering_id}/training-log.csv"
    files.append(_download(learner, url, workdir / "training-log.csv"))
    return files


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _unneutralised(text: str) -> str:
    """The user's text: the ``'`` the export put before a trigger at the start of a line removed."""
    return re.sub(r"(^|\n)'", r"\1", text)


def _formulas(rows: list[list[dict[str, str | None]]]) -> list[str]:
    return [f"{c['formula']} -> {c['text']!r}" for row in rows for c in row if c["formula"]]


@pytest.mark.parametrize("separator", [",", ";"], ids=["comma", "semicolon"])
def test_no_csv_cell_is_a_formula_in_libreoffice(app, hostile, tmp_path, separator):
    """Every CSV export, opened with ``,`` or ``;``: no formula, and hostile text stays text."""
    files = _exports(app, hostile, tmp_path)
    sheets = convert(files, separator, tmp_path)
    for name, path in sheets.items():
        rows = read_fods(path)
        assert rows, f"{name}: empty sheet"
        assert _formulas(rows) == [], f"{name} opened with {separator!r} has formulas"
        texts = "\n".join(_lines(c["text"] or "") for row in rows for c in row)
        if separator == ",":
            # the file's own separator: the grid is the CSV's, cell for cell, and text stays text
            raw = path.parent.parent / name
            expected = list(csv.reader(io.StringIO(raw.read_text("utf-8-sig"), newline="")))
            assert len(rows) == len(expected), name
            for got, want in zip(rows, expected, strict=True):
                for cell, field in zip(got, want, strict=False):
                    if cell["type"] == "string":
                        assert _lines(cell["text"] or "") == _lines(field), name
                    else:  # only plain numbers and dates become numbers
                        assert _PLAIN.fullmatch(field), f"{name}: {field!r} became {cell['type']}"
        # whatever the separator, each hostile name is still there as the user typed it
        shown = _unneutralised(texts)
        for value in HOSTILE:
            first = _lines(value).split("\n")[0].split(";")[0].split(",")[0]
            if first and name in ("ce-roster.csv", "completion-matrix.csv"):
                assert first.strip("\t") in shown, f"{name}: {value!r} not shown"
