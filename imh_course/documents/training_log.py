"""NYS-AIMH endorsement training log, as CSV and PDF.

Endorsement applications list each training with its date, clock hours, competency domains and
trainers: one entry per attended meeting, plus independent learning as separate entries marked
as independent study. Both outputs keep the two ledgers apart — face-to-face entries first,
independent study after — and total them separately; independent study is labelled "not CE"
everywhere and is never added to the face-to-face total.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import cast

from fpdf import FPDF
from fpdf.enums import TableCellFillMode
from fpdf.fonts import FontFace

from imh_course.documents._pdf import FAMILY, format_date, line_height, new_pdf, printable
from imh_course.documents.exports import csv_stream

__all__ = [
    "CSV_HEADER",
    "FACE_TO_FACE",
    "INDEPENDENT",
    "LogEntry",
    "TrainingLog",
    "training_log_csv",
    "training_log_pdf",
]

FACE_TO_FACE = "Face-to-face session"
INDEPENDENT = "Independent study — not CE"
CSV_HEADER = ("Date", "Training title", "Clock hours", "Competency domains", "Trainers", "Type")
TOTAL_FACE_TO_FACE = "Total face-to-face clock hours"
TOTAL_INDEPENDENT = "Total independent study hours — not eligible for CE"

_HOURS = re.compile(r"\d+\.\d{2}")
NAVY, GREY, INK = (31, 58, 95), (95, 99, 104), (34, 34, 34)


@dataclass(frozen=True)
class LogEntry:
    """One training: an attended meeting, or an independent-study item (``independent_study``)."""

    date: date | None
    title: str
    clock_hours: str
    competencies: tuple[str, ...]
    trainers: tuple[str, ...]
    independent_study: bool

    def __post_init__(self) -> None:
        # Lists from callers are frozen to tuples so the entry stays hashable and immutable.
        object.__setattr__(self, "competencies", tuple(self.competencies))
        object.__setattr__(self, "trainers", tuple(self.trainers))
        if not isinstance(self.clock_hours, str) or not _HOURS.fullmatch(self.clock_hours):
            raise ValueError(f"clock_hours must look like '1.50', got {self.clock_hours!r}")
        if not self.title.strip():
            raise ValueError("title must not be blank")
        if self.date is None and not self.independent_study:
            raise ValueError("a face-to-face entry needs the meeting date")


@dataclass(frozen=True)
class TrainingLog:
    """A learner's log for one offering; ``entries`` in the caller's order within each ledger."""

    learner_name: str
    provider_name: str
    course_title: str
    offering_label: str
    generated_on: date
    entries: tuple[LogEntry, ...]
    #: what the face-to-face hours are for this learner (``rules.ce_standing``): CE contact hours,
    #: or clock hours that are not CE for their licence; "" prints nothing
    ce_note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries", tuple(self.entries))

    @property
    def face_to_face(self) -> tuple[LogEntry, ...]:
        """Attended meetings, in order."""
        return tuple(entry for entry in self.entries if not entry.independent_study)

    @property
    def independent(self) -> tuple[LogEntry, ...]:
        """Independent-study entries, in order."""
        return tuple(entry for entry in self.entries if entry.independent_study)

    @property
    def face_to_face_total(self) -> str:
        """Sum of face-to-face clock hours, two decimals (exact: ``Decimal``)."""
        return _total(self.face_to_face)

    @property
    def independent_total(self) -> str:
        """Sum of independent-study hours, two decimals; never part of the face-to-face total."""
        return _total(self.independent)


def _total(entries: tuple[LogEntry, ...]) -> str:
    return f"{sum((Decimal(entry.clock_hours) for entry in entries), Decimal(0)):.2f}"


def _csv_rows(log: TrainingLog) -> Iterator[list[object]]:
    for entry in (*log.face_to_face, *log.independent):
        yield [
            entry.date,
            entry.title,
            entry.clock_hours,
            "; ".join(entry.competencies),
            "; ".join(entry.trainers),
            INDEPENDENT if entry.independent_study else FACE_TO_FACE,
        ]
    yield ["", TOTAL_FACE_TO_FACE, log.face_to_face_total, "", "", FACE_TO_FACE]
    yield ["", TOTAL_INDEPENDENT, log.independent_total, "", "", INDEPENDENT]
    if log.ce_note:
        yield ["", log.ce_note, "", "", "", ""]


def training_log_csv(log: TrainingLog) -> str:
    """The log as CSV text: BOM, header row, one row per entry, then the two totals rows.

    Dates are ISO (``2025-03-04``); competencies and trainers are joined with ``"; "``; every
    cell goes through ``exports.safe_cell``. Encode the result as UTF-8 to serve it.
    """
    return "".join(csv_stream(CSV_HEADER, _csv_rows(log)))


# --- PDF ----------------------------------------------------------------------------------------
_COL_WIDTHS = (24, 62, 14, 42, 44)
_PDF_HEADER = ("Date", "Training title", "Clock hours", "Competency domains", "Trainers")
_TEXT_ALIGN = ("LEFT", "LEFT", "RIGHT", "LEFT", "LEFT")


def _short_date(day: date) -> str:
    """``Mar 4, 2025``: unambiguous and narrow enough for the date column."""
    return f"{format_date(day)[:3]} {day.day}, {day.year}"


class _LogPDF(FPDF):
    """Adds a running footer: learner, generation date, page X of Y."""

    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, "", 8)
        self.set_text_color(*GREY)
        self.cell(0, 5, self.footer_text, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R")


def _heading(pdf: FPDF, text: str, size: float = 12, keep_with_next: float = 35) -> None:
    """Section heading; starts a new page rather than stranding the heading at a page foot."""
    if pdf.get_y() + keep_with_next > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font(FAMILY, "B", size)
    pdf.set_text_color(*NAVY)
    pdf.multi_cell(0, line_height(size), printable(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def _table(pdf: FPDF, entries: tuple[LogEntry, ...]) -> None:
    if not entries:
        pdf.set_font(FAMILY, "", 9.5)
        pdf.set_text_color(*GREY)
        pdf.multi_cell(0, line_height(9.5), "No entries.", new_x="LMARGIN", new_y="NEXT")
        return
    pdf.set_font(FAMILY, "", 8.5)
    pdf.set_text_color(*INK)
    pdf.set_draw_color(190, 196, 204)
    pdf.set_line_width(0.2)
    headings = FontFace(emphasis="BOLD", color=NAVY, fill_color=(228, 234, 242))
    with pdf.table(
        col_widths=_COL_WIDTHS,
        text_align=_TEXT_ALIGN,
        headings_style=headings,
        line_height=line_height(8.5, 1.3),
        padding=(1.2, 1.5),
        cell_fill_color=(246, 248, 250),
        cell_fill_mode=TableCellFillMode.EVEN_ROWS,
        v_align="TOP",
    ) as table:
        row = table.row()
        for label in _PDF_HEADER:
            row.cell(label)
        for entry in entries:
            row = table.row()
            row.cell(_short_date(entry.date) if entry.date else "—")
            row.cell(printable(entry.title))
            row.cell(entry.clock_hours)
            row.cell("\n".join(printable(item) for item in entry.competencies) or "—")
            row.cell("\n".join(printable(item) for item in entry.trainers) or "—")


def _total_line(pdf: FPDF, label: str, value: str) -> None:
    pdf.ln(1.5)
    pdf.set_font(FAMILY, "B", 10)
    pdf.set_text_color(*INK)
    pdf.multi_cell(0, line_height(10), f"{label}: {value}", align="R", new_x="LMARGIN", new_y="NEXT")


def training_log_pdf(log: TrainingLog) -> bytes:
    """The log as a portrait Letter PDF: identification, face-to-face table and total,
    independent-study table and total (not CE), then both totals side by side, never summed.

    Tables wrap cell text and continue over pages with repeated headings.
    """
    pdf = cast(
        _LogPDF,
        new_pdf(
            orientation="portrait",
            title=f"Endorsement training log — {log.learner_name}",
            author=log.provider_name,
            subject=log.course_title,
            created=log.generated_on,
            cls=_LogPDF,
        ),
    )
    pdf.footer_text = printable(f"{log.learner_name} · generated {format_date(log.generated_on)}")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()

    pdf.set_font(FAMILY, "B", 18)
    pdf.set_text_color(*NAVY)
    pdf.multi_cell(0, line_height(18), "Endorsement Training Log", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 9.5)
    pdf.set_text_color(*GREY)
    subtitle = "For infant and early childhood mental health endorsement (NYS-AIMH)"
    pdf.multi_cell(0, line_height(9.5), subtitle, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for label, value in (
        ("Learner", log.learner_name),
        ("Provider", log.provider_name),
        ("Course", log.course_title),
        ("Offering", log.offering_label),
        ("Generated", format_date(log.generated_on)),
    ):
        pdf.set_font(FAMILY, "B", 10)
        pdf.set_text_color(*INK)
        pdf.cell(24, line_height(10), f"{label}:")
        pdf.set_font(FAMILY, "", 10)
        pdf.multi_cell(0, line_height(10), printable(value), new_x="LMARGIN", new_y="NEXT")

    _heading(pdf, "Face-to-face sessions")
    _table(pdf, log.face_to_face)
    _total_line(pdf, TOTAL_FACE_TO_FACE, log.face_to_face_total)

    _heading(pdf, "Independent study — not eligible for CE")
    _table(pdf, log.independent)
    _total_line(pdf, TOTAL_INDEPENDENT, log.independent_total)

    _heading(pdf, "Summary")
    pdf.set_font(FAMILY, "", 10)
    pdf.set_text_color(*INK)
    for label, value in (
        (TOTAL_FACE_TO_FACE, log.face_to_face_total),
        (TOTAL_INDEPENDENT, log.independent_total),
    ):
        pdf.cell(120, line_height(10), f"{label}:")
        pdf.multi_cell(0, line_height(10), value, align="R", new_x="LMARGIN", new_y="NEXT")
    if log.ce_note:
        pdf.ln(1)
        pdf.set_font(FAMILY, "B", 10)
        pdf.multi_cell(0, line_height(10), printable(log.ce_note), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 8.5)
    pdf.set_text_color(*GREY)
    pdf.ln(2)
    pdf.multi_cell(
        0,
        line_height(8.5),
        "Face-to-face hours are clock hours attended, as recorded by the instructor. Independent study "
        "hours are the authored estimates for completed readings, exercises and quizzes; they are not "
        "continuing-education credit and are not included in the face-to-face total.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())
