"""Fitting text into a PDF frame: shrink to a bounded number of lines, wrap as fpdf2 wraps.

A document must never spill onto a second page or over its frame, so every text block is shrunk
towards a minimum size and, past it, cut with an ellipsis (:func:`fit_lines`). Plain text is
wrapped by :func:`_wrap_words`, fpdf2's own word-wrap rule without ``multi_cell``'s cost; the
bytes are the same (``tests/unit/documents/test_pdf_fast_paths.py`` compares both ways).
"""

from __future__ import annotations

import re

from fpdf import FPDF
from fpdf.enums import MethodReturnValue, WrapMode
from fpdf.errors import FPDFException
from fpdf.line_break import BREAKING_SPACE_SYMBOLS_STR, FORM_FEED, NBSP, NEWLINE, SOFT_HYPHEN

from imh_course.documents._pdf import FAMILY, printable


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

    Lines are broken as fpdf2's ``multi_cell`` breaks them (word wrap); plain text — no soft
    hyphen, no special space — goes through :func:`_wrap_words`, the same rule without
    ``multi_cell``'s cost (~1 ms a call, most of the certificate's layout time).
    """
    text = printable(text)
    plain = bool(text) and not _SPECIAL.search(text) and pdf.char_spacing == 0 and pdf.font_stretching == 100
    current = size
    if plain:
        # multi_cell's dry run gives the glyphs their codes in the font subset, in text order; do
        # the same, so the document's bytes are exactly those of the multi_cell version
        pdf.set_font(FAMILY, style, current)
        pick = pdf.current_font.subset.pick
        for char in text:
            pick(ord(char))
    while True:
        pdf.set_font(FAMILY, style, current)
        if plain:
            lines = _wrap_words(pdf, text, width)
        else:
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


# Characters fpdf2's line breaking treats specially (soft hyphen, the breaking spaces other than
# U+0020, no-break space, newline, form feed): texts holding one always go through multi_cell.
_SPECIAL = re.compile(
    "["
    + re.escape(SOFT_HYPHEN + NBSP + NEWLINE + FORM_FEED + BREAKING_SPACE_SYMBOLS_STR.replace(" ", ""))
    + "]"
)
_TOLERANCE = 1e-9  # fpdf.util.FloatTolerance.TOLERANCE


def _wrap_words(pdf: FPDF, text: str, width: float) -> list[str]:
    """The lines ``pdf.multi_cell(width, text=text, dry_run=True, output=LINES)`` returns with
    ``WrapMode.WORD``, for text without the characters in ``_SPECIAL``, in the current font.

    The same rule and the same float arithmetic as fpdf2's ``MultiLineBreak.get_line`` (2.8.9):
    a character that would take the line past the width (beyond a 1e-9 tolerance) ends it — at
    that character if it is a space (dropped), else at the last space of the line (dropped), else
    right before it (a word longer than the line); a last line of zero width is dropped. The unit
    tests compare it with ``multi_cell`` on random texts.
    """
    font, size, k = pdf.current_font, pdf.font_size_pt, pdf.k
    cw = font.cw
    limit = width
    for margin in (pdf.c_margin, pdf.c_margin):  # MultiLineBreak subtracts them one by one
        limit -= float(margin)
    lines: list[str] = []
    i, n = 0, len(text)
    while i < n:
        start, units, space = i, 0, -1
        while i < n:
            char = text[i]
            char_units = cw[ord(char)]
            line_width = units * size * 0.001 / k
            if (line_width + char_units * size * 0.001 / k) - limit > _TOLERANCE:
                if char == " ":
                    lines.append(text[start:i])
                    i += 1
                elif space >= 0:
                    lines.append(text[start:space])
                    i = space + 1
                elif i == start:
                    raise FPDFException("Not enough horizontal space to render a single character")
                else:
                    lines.append(text[start:i])
                break
            if char == " ":
                space = i
            units += char_units
            i += 1
        else:
            if units:
                lines.append(text[start:i])
    return lines
