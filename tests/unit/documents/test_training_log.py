"""Endorsement training log: one entry per meeting, independent study apart, totals never mixed."""

import csv
import io
import logging
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from imh_course.documents.exports import UTF8_BOM
from imh_course.documents.training_log import (
    CSV_HEADER,
    FACE_TO_FACE,
    INDEPENDENT,
    TOTAL_FACE_TO_FACE,
    TOTAL_INDEPENDENT,
    LogEntry,
    TrainingLog,
    training_log_csv,
    training_log_pdf,
)

COURSE = "Infant Mental Health: Theory to Practice"
SESSIONS = ["Foundations", "Ghosts and Angels in the Nursery", "Attachment across the lifespan"]


def meeting(number: int, hours: str = "1.50", title: str | None = None) -> LogEntry:
    return LogEntry(
        date=date(2025, 3, 4) + timedelta(days=7 * (number - 1)),
        title=f"{COURSE} — Session {number}: {title or SESSIONS[(number - 1) % len(SESSIONS)]}",
        clock_hours=hours,
        competencies=("Theoretical Foundations", "Reflection"),
        trainers=("Dr. Amara Okafor", "María José Hernández, LCSW"),
        independent_study=False,
    )


READING = LogEntry(
    date(2025, 3, 10),
    "Reading: Fraiberg, Adelson & Shapiro (1975), Ghosts in the nursery",
    "0.75",
    ("Theoretical Foundations",),
    (),
    True,
)
QUIZ = LogEntry(
    None, '=HYPERLINK("http://evil","Quiz 1")', "0.30", ("Law, Regulation & Agency Policy",), (), True
)


def make_log(entries, name: str = "Zoë Ñuñez-Ørsted") -> TrainingLog:
    return TrainingLog(
        name, "Riverside Family Institute", COURSE, "Spring 2025 cohort", date(2025, 6, 1), entries
    )


LOG = make_log((meeting(1), READING, meeting(2), QUIZ, meeting(3, "1.25")))


def csv_rows(log: TrainingLog) -> list[list[str]]:
    text = training_log_csv(log)
    assert text.startswith(UTF8_BOM)
    return list(csv.reader(io.StringIO(text[len(UTF8_BOM) :], newline="")))


def pdf_text(log: TrainingLog) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(training_log_pdf(log)))
    return len(reader.pages), " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_csv_header_row():
    """After the BOM the CSV starts with the header: Date, Training title, Clock hours, ..., Type."""
    assert csv_rows(LOG)[0] == [
        "Date",
        "Training title",
        "Clock hours",
        "Competency domains",
        "Trainers",
        "Type",
    ]
    assert tuple(csv_rows(LOG)[0]) == CSV_HEADER


def test_csv_one_row_per_meeting_then_independent_study():
    """Face-to-face sessions come first in their order, independent study after, each with its type."""
    rows = csv_rows(LOG)[1:-2]
    assert [row[0] for row in rows] == ["2025-03-04", "2025-03-11", "2025-03-18", "2025-03-10", ""]
    assert [row[5] for row in rows] == [FACE_TO_FACE] * 3 + [INDEPENDENT] * 2
    assert rows[1] == [
        "2025-03-11",
        f"{COURSE} — Session 2: Ghosts and Angels in the Nursery",
        "1.50",
        "Theoretical Foundations; Reflection",
        "Dr. Amara Okafor; María José Hernández, LCSW",
        "Face-to-face session",
    ]


def test_independent_study_is_labelled_not_ce():
    """Independent entries are typed 'Independent study — not CE'."""
    assert INDEPENDENT == "Independent study — not CE"
    assert csv_rows(LOG)[4][5] == "Independent study — not CE"


def test_csv_totals_are_separate_and_exact():
    """Two totals rows: face-to-face clock hours and independent study hours, never added together."""
    totals = csv_rows(LOG)[-2:]
    assert totals == [
        ["", TOTAL_FACE_TO_FACE, "4.25", "", "", FACE_TO_FACE],
        ["", TOTAL_INDEPENDENT, "1.05", "", "", INDEPENDENT],
    ]
    assert "5.30" not in training_log_csv(LOG)


def test_csv_cells_are_neutralised():
    """A formula-looking title is written with a leading ' (exports.safe_cell)."""
    assert csv_rows(LOG)[5][1] == """'=HYPERLINK("http://evil","Quiz 1")"""


def test_totals_use_decimal_arithmetic():
    """Hours add exactly: 0.10 + 0.20 is 0.30, not 0.30000000000000004."""
    log = make_log((meeting(1, "0.10"), meeting(2, "0.20")))
    assert log.face_to_face_total == "0.30"
    assert log.independent_total == "0.00"


def test_pdf_contains_identity_entries_and_separate_totals():
    """The PDF names learner, provider, course and offering, lists every entry and shows both totals."""
    _, text = pdf_text(LOG)
    for value in (
        "Endorsement Training Log",
        "Zoë Ñuñez-Ørsted",
        "Riverside Family Institute",
        COURSE,
        "Spring 2025 cohort",
        "June 1, 2025",
        f"{COURSE} — Session 1: Foundations",
        f"{COURSE} — Session 2: Ghosts and Angels in the Nursery",
        "Mar 18, 2025",
        READING.title,
        """=HYPERLINK("http://evil","Quiz 1")""",
        "María José Hernández, LCSW",
        "Law, Regulation & Agency Policy",
        "Face-to-face sessions",
        "Independent study — not eligible for CE",
        f"{TOTAL_FACE_TO_FACE}: 4.25",
        f"{TOTAL_INDEPENDENT}: 1.05",
    ):
        assert value in text, value
    assert "5.30" not in text


def test_pdf_face_to_face_section_precedes_independent_study():
    """Face-to-face entries are listed before the independent-study section."""
    _, text = pdf_text(LOG)
    assert (
        text.index("Session 3")
        < text.index("Independent study — not eligible for CE")
        < text.index("Reading:")
    )


def test_pdf_spans_pages_with_repeated_headings():
    """A long log continues over several portrait Letter pages, repeating the table headings."""
    log = make_log(
        tuple(meeting(n, title="A much longer session title that wraps " * 3) for n in range(1, 41))
    )
    reader = PdfReader(io.BytesIO(training_log_pdf(log)))
    assert len(reader.pages) > 1
    for page in reader.pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == (612.0, 792.0)
        assert "Training title" in page.extract_text()
    assert f"Page {len(reader.pages)} of {len(reader.pages)}" in reader.pages[-1].extract_text()
    assert f"{TOTAL_FACE_TO_FACE}: 60.00" in " ".join(reader.pages[-1].extract_text().split())


def test_empty_sections_say_so():
    """A log without independent study still prints the section, with 'No entries.' and a 0.00 total."""
    _, text = pdf_text(make_log((meeting(1),)))
    assert "No entries." in text
    assert f"{TOTAL_INDEPENDENT}: 0.00" in text


def test_cjk_learner_name_does_not_crash(caplog):
    """Characters the bundled font lacks print as '?' in the PDF without errors or fpdf warnings."""
    with caplog.at_level(logging.WARNING):
        _, text = pdf_text(make_log((meeting(1),), name="王小明 Wang"))
    assert "??? Wang" in text
    assert [record for record in caplog.records if record.name.startswith("fpdf")] == []
    assert csv_rows(make_log((meeting(1),), name="王小明"))  # CSV keeps any Unicode


def test_pdf_metadata():
    """PDF title names the log and the learner; the author is the provider."""
    meta = PdfReader(io.BytesIO(training_log_pdf(LOG))).metadata
    assert meta.title == "Endorsement training log — Zoë Ñuñez-Ørsted"
    assert meta.author == "Riverside Family Institute"


def test_face_to_face_entry_needs_a_date():
    """An attended meeting always has a date; only independent study may lack one."""
    with pytest.raises(ValueError, match="date"):
        LogEntry(None, "Session", "1.50", (), (), False)


@pytest.mark.parametrize("hours", ["1.5", "-1.50", "", "1,50"])
def test_clock_hours_must_have_two_decimals(hours):
    """Clock hours are preformatted like '1.50', as the credit engine shows them."""
    with pytest.raises(ValueError, match="clock_hours"):
        LogEntry(date(2025, 3, 4), "Session", hours, (), (), False)


def test_lists_are_frozen_to_tuples():
    """Lists passed for competencies, trainers or entries are stored as tuples (immutable, hashable)."""
    entry = LogEntry(date(2025, 3, 4), "Session", "1.50", ["A"], ["B"], False)  # type: ignore[arg-type]
    log = make_log([entry])  # type: ignore[arg-type]
    assert entry.competencies == ("A",) and entry.trainers == ("B",)
    assert log.entries == (entry,)
    hash(log)
