"""Shared fpdf2 helpers: the bundled DejaVu font, glyph substitution, text fitting, dates.

fpdf2's core fonts are Latin-1 only, so every PDF embeds DejaVu Sans from ``fonts/`` (shipped
in the repository so output does not depend on system fonts). DejaVu covers Latin (including
Vietnamese), Greek, Cyrillic, Armenian, Georgian and Hebrew, but not CJK: characters the font
lacks are replaced by ``?`` before rendering, so no glyph goes missing silently, fpdf2 logs no
warning and nothing raises. Printing CJK names needs a CJK font added to ``fonts/``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import MethodReturnValue, WrapMode

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_FILES = {"": FONT_DIR / "DejaVuSans.ttf", "B": FONT_DIR / "DejaVuSans-Bold.ttf"}
FAMILY = "DejaVu"
REPLACEMENT = "?"
PT_TO_MM = 25.4 / 72

_WHITESPACE = re.compile(r"\s+")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


@lru_cache(maxsize=1)
def supported_codepoints() -> frozenset[int]:
    """Code points that both bundled faces (regular and bold) can draw."""
    maps = []
    for path in FONT_FILES.values():
        with TTFont(path, lazy=True) as font:
            maps.append(set(font.getBestCmap()))
    return frozenset(set.intersection(*maps))


def unsupported_characters(text: str) -> str:
    """The distinct characters of ``text`` (after NFC) that the bundled font cannot draw, in order.

    Callers can use this to warn a coordinator before issuing a document with such a name.
    """
    supported = supported_codepoints()
    seen = dict.fromkeys(ch for ch in unicodedata.normalize("NFC", text) if ord(ch) not in supported)
    return "".join(ch for ch in seen if not ch.isspace())


def printable(text: str) -> str:
    """Single-line text the font can draw: NFC, whitespace runs collapsed, unknown glyphs -> ``?``."""
    supported = supported_codepoints()
    text = _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()
    return "".join(ch if ord(ch) in supported else REPLACEMENT for ch in text)


def new_pdf(
    *, orientation: str, title: str, author: str, subject: str, created: date, cls: type[FPDF] = FPDF
) -> FPDF:
    """A Letter-size FPDF with the DejaVu faces registered and reproducible metadata.

    The creation date is the document's own date (issue or generation day, midnight UTC), so the
    same input renders the same bytes.
    """
    pdf = cls(orientation=orientation, unit="mm", format="Letter")
    for style, path in FONT_FILES.items():
        pdf.add_font(FAMILY, style, path)
    pdf.set_title(printable(title))
    pdf.set_author(printable(author))
    pdf.set_subject(printable(subject))
    pdf.set_creator("imh-course")
    pdf.set_lang("en-US")
    pdf.set_creation_date(datetime(created.year, created.month, created.day, tzinfo=UTC))
    return pdf


def line_height(size_pt: float, factor: float = 1.25) -> float:
    """Line height in mm for a font size in points."""
    return size_pt * PT_TO_MM * factor


def fit_lines(
    pdf: FPDF,
    text: str,
    *,
    width: float,
    style: str,
    size: float,
    min_size: float,
    max_lines: int,
) -> tuple[float, list[str]]:
    """Shrink ``text`` from ``size`` towards ``min_size`` until it wraps into ``max_lines`` lines.

    If it still does not fit at ``min_size`` the last line is cut with an ellipsis: a document
    must never spill onto a second page or over its frame. Leaves the fitted font selected.
    """
    text = printable(text)
    current = size
    while True:
        pdf.set_font(FAMILY, style, current)
        lines = pdf.multi_cell(
            width, text=text, dry_run=True, output=MethodReturnValue.LINES, wrapmode=WrapMode.WORD
        )
        if len(lines) <= max_lines or current <= min_size:
            break
        current = max(min_size, current - 0.5)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1].rstrip()
        while last and pdf.get_string_width(last + "…") > width - 2 * pdf.c_margin:
            last = last[:-1].rstrip()
        lines[-1] = last + "…"
    return current, lines


def format_date(day: date) -> str:
    """``March 4, 2025`` — spelled out so US and European readers cannot misread it."""
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


def format_date_range(first: date, last: date) -> str:
    """``March 4 – May 13, 2025``; the year is repeated only when it changes."""
    if first == last:
        return format_date(first)
    if first.year == last.year:
        return f"{_MONTHS[first.month - 1]} {first.day} – {format_date(last)}"
    return f"{format_date(first)} – {format_date(last)}"
