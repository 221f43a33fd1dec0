"""Shared fpdf2 helpers: the bundled DejaVu font, glyph substitution, new documents, dates.

fpdf2's core fonts are Latin-1 only, so every PDF embeds DejaVu Sans from ``fonts/`` (shipped
in the repository so output does not depend on system fonts). DejaVu covers Latin (including
Vietnamese), Greek, Cyrillic, Armenian, Georgian and Hebrew, but not CJK: characters the font
lacks are replaced by ``?`` before rendering, so no glyph goes missing silently, fpdf2 logs no
warning and nothing raises. Printing CJK names needs a CJK font added to ``fonts/``.

Speed (a certificate is rendered per issue, and 200 at a time in bulk): fpdf2's ``add_font``
parses the whole 6,000-glyph TTF for every document and ``output()`` subsets it again from
scratch, ~80 % of a certificate's time. Here each face is parsed once per process (a *prototype*:
widths, cmap, descriptor — read-only after parsing) and every document gets a cheap copy with its
own mutable state. At output, the subset is cut from the smallest pre-reduced *working* font that
has every glyph used (Latin-1: ~300 glyphs, or all Latin: ~1,200; cut once per process, glyph
names kept, simple glyphs pre-encoded), or from the full file (Greek, Cyrillic, Hebrew…). Text is
fitted and wrapped by ``_pdf_lines`` (fpdf2's own line-breaking rule without ``multi_cell``'s cost).
The PDF is byte for byte what plain fpdf2 (``add_font``, ``multi_cell``) produces: the unit tests
in ``tests/unit/documents/test_pdf_fast_paths.py`` render both ways and compare.
"""

from __future__ import annotations

import copy
import io
import pickle
import re
import threading
import unicodedata
from datetime import UTC, date, datetime
from functools import cache, lru_cache, partial
from pathlib import Path

from fontTools import subset as ft_subset
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont
from fpdf.output import OutputProducer

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


# --- fonts: parse once per process, copy per document -----------------------------------------
# The working fonts, smallest first; each lists the code points whose glyphs it holds. The first
# covers most names (ASCII, Latin-1, general punctuation: ~300 glyphs); the second adds the rest
# of Latin (Extended-A/B, Vietnamese), spacing modifiers, combining marks, currency, letterlike
# symbols and ligatures (~1,200 of DejaVu's 6,000). Greek, Cyrillic, Hebrew… use the full file.
_WORKING_RANGES = (
    ((0x0000, 0x00FF), (0x2000, 0x206F), (0x20AC, 0x20AC), (0x2122, 0x2122), (0xFFFD, 0xFFFD)),
    (
        (0x0000, 0x024F), (0x02B0, 0x036F), (0x1E00, 0x1EFF), (0x2000, 0x206F), (0x20A0, 0x20CF),
        (0x2100, 0x215F), (0xFB00, 0xFB06), (0xFFFD, 0xFFFD),
    ),
)  # fmt: skip
# The tables fpdf2's output() drops before subsetting (fpdf/output.py, _add_fonts), plus "kern":
# fpdf2 drops it implicitly (fontTools drops the legacy kern table while GPOS is present).
_FPDF_DROPPED = (
    "FFTM", "GDEF", "GPOS", "GSUB", "MATH", "hdmx", "meta", "sbix", "CBDT", "CBLC", "EBDT", "EBLC",
    "EBSC", "SVG ", "CPAL", "COLR", "kern",
)  # fmt: skip
_FONT_LOCK = threading.Lock()


@cache
def _font_file(style: str) -> bytes:
    return FONT_FILES[style].read_bytes()


def _prototype(style: str) -> TTFFont:
    """The face parsed once by fpdf2 itself (widths, cmap, glyph ids, descriptor); never mutated."""
    with _FONT_LOCK:
        return _prototype_locked(style)


@cache
def _prototype_locked(style: str) -> TTFFont:
    scratch = FPDF()
    scratch.add_font(FAMILY, style, FONT_FILES[style])
    font = scratch.fonts[_fontkey(style)]
    if not isinstance(font, TTFFont) or font.color_font is not None or font.is_cff or font.is_symbol:
        raise RuntimeError(f"unexpected font kind for {FONT_FILES[style].name}")  # pragma: no cover
    font.ttfont.close()  # the parsed tables are not needed any more: documents get their own
    font.ttfont = None
    return font


def _fontkey(style: str) -> str:
    return f"{FAMILY.lower()}{style}"


def _working_font(style: str, tier: int) -> tuple[bytes, frozenset[str]]:
    """See :func:`_cut_working_font` (cut once per process, even when threads ask at once)."""
    with _FONT_LOCK:
        return _cut_working_font(style, tier)


@cache
def _cut_working_font(style: str, tier: int) -> tuple[bytes, frozenset[str]]:
    """A TTF holding the glyphs of ``_WORKING_RANGES[tier]`` (and the components they use) with
    their glyph names and *every* code point that maps to them, and each table fpdf2 embeds kept
    whole: subsetting from it gives the same bytes as subsetting the full file, several times
    faster. Returns it parsed (every table decompiled, every glyph expanded) and pickled — a
    document unpickles its own copy, as subsetting changes the font in place, which is ~40 %
    cheaper than parsing the file again — and its glyph names."""
    cmap = TTFont(io.BytesIO(_font_file(style)), lazy=True).getBestCmap()
    wanted = {cmap[u] for low, high in _WORKING_RANGES[tier] for u in range(low, high + 1) if u in cmap}
    font = _subset(style, glyphs=wanted)  # closure: composites pull in their components
    retained = set(font.getGlyphOrder())
    font.close()
    # again, asking for every code point of every retained glyph: the final subset's cmap keeps
    # the aliases of each glyph used (e.g. U+03A9 when only U+2126 was wanted), as from the full file
    font = _subset(style, glyphs=retained, unicodes={u for u, name in cmap.items() if name in retained})
    out = io.BytesIO()
    font.save(out)
    font.close()
    parsed = TTFont(io.BytesIO(out.getvalue()), recalcTimestamp=False)
    parsed.ensureDecompiled()  # every table, and every glyph of glyf expanded
    parsed.reader = None  # everything is loaded; nothing to read lazily (and nothing to pickle)
    # Saving a subset re-encodes each glyph's outline (fontTools' compile, pure Python: half the cost
    # of the subset). A simple glyph's encoding depends on nothing but the glyph, so compute it once
    # here and let each copy return it; composite glyphs name their components by glyph id, which
    # changes with each subset, so they are still encoded per document. Simple glyphs go back to
    # their encoded form (fewer objects to unpickle): fontTools expands the few a document keeps
    # when it recomputes the font-wide values (head, hhea, maxp), from the same outlines.
    glyf = parsed["glyf"]
    for glyph in glyf.glyphs.values():
        if not glyph.isComposite():
            encoded = glyph.compile(glyf)
            glyph.__dict__.clear()  # what fontTools' Glyph.compact() does
            glyph.data = encoded
            glyph.compile = partial(_encoded, encoded)
    return pickle.dumps(parsed, protocol=pickle.HIGHEST_PROTOCOL), frozenset(parsed.getGlyphOrder())


def _encoded(data: bytes, *_args: object, **_kwargs: object) -> bytes:
    """A simple glyph's ``compile()``: its encoding, computed once (see :func:`_cut_working_font`)."""
    return data


def _subset(style: str, *, glyphs: set[str], unicodes: set[int] | None = None) -> TTFont:
    font = TTFont(io.BytesIO(_font_file(style)), recalcTimestamp=False, lazy=True)
    options = ft_subset.Options(
        notdef_outline=True,
        recommended_glyphs=True,
        glyph_names=True,
        name_IDs=["*"],
        name_languages=["*"],
        name_legacy=True,
        prune_unicode_ranges=False,
        prune_codepage_ranges=False,
        recalc_max_context=False,
        drop_tables=["DSIG", *_FPDF_DROPPED],
    )
    subsetter = ft_subset.Subsetter(options)
    subsetter.populate(glyphs=sorted(glyphs), unicodes=sorted(unicodes or ()))
    subsetter.subset(font)
    return font


def _document_font(pdf: FPDF, style: str) -> TTFFont:
    """A per-document copy of the prototype: shared read-only metrics, its own subset state."""
    proto = _prototype(style)
    font = copy.copy(proto)
    font.i = len(pdf.fonts) + 1
    font.desc = copy.copy(proto.desc)  # output() writes the font name and object id into it
    font.ttfont = TTFont(io.BytesIO(_font_file(style)), recalcTimestamp=False, lazy=True)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font._hbfont = None  # noqa: SLF001 - per-document slot of fpdf2's font object
    font.subset = SubsetMap(font)
    return font


def _register_fonts(pdf: FPDF) -> None:
    """The DejaVu faces for ``pdf`` (what ``pdf.add_font(FAMILY, style, path)`` does, cheaply)."""
    for style in FONT_FILES:
        pdf.fonts[_fontkey(style)] = _document_font(pdf, style)


def warm_up() -> None:
    """Parse the faces and cut every working font now (~4 s of CPU, once per process) rather than
    in the first documents that need them: ~1.3 s in the first document of a process, ~2.7 s more
    in the first one with a Latin Extended character. Call it e.g. from a server's worker start-up
    hook."""
    for style in FONT_FILES:
        _prototype(style)
        for tier in range(len(_WORKING_RANGES)):
            _working_font(style, tier)


def _use_working_fonts(pdf: FPDF) -> None:
    """Before output: subset from the smallest working font that has every glyph used."""
    for style in FONT_FILES:
        font = pdf.fonts.get(_fontkey(style))
        if not isinstance(font, TTFFont):
            continue
        used = font.subset.get_all_glyph_names()
        for tier in range(len(_WORKING_RANGES)):
            parsed, names = _working_font(style, tier)
            if names.issuperset(used):
                font.ttfont.close()
                # our own bytes, pickled in this process from the bundled font: nothing external
                font.ttfont = pickle.loads(parsed)  # noqa: S301
                break


class _WorkingFontOutput(OutputProducer):
    """fpdf2's output producer, after pointing each face at the working font when it suffices.

    Runs inside ``output()`` after the footer is drawn, so every glyph used is known.
    """

    def bufferize(self) -> bytearray:
        _use_working_fonts(self.fpdf)
        return super().bufferize()


class DocumentPDF(FPDF):
    """FPDF whose ``output()`` subsets from the working font (same bytes, several times faster)."""

    def output(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        kwargs.setdefault("output_producer_class", _WorkingFontOutput)
        return super().output(*args, **kwargs)


@cache
def _document_class(cls: type[FPDF]) -> type[FPDF]:
    if issubclass(cls, DocumentPDF):
        return cls
    if cls is FPDF:
        return DocumentPDF
    return type(cls.__name__, (DocumentPDF, cls), {"__module__": cls.__module__})


def new_pdf(
    *, orientation: str, title: str, author: str, subject: str, created: date, cls: type[FPDF] = FPDF
) -> FPDF:
    """A Letter-size FPDF with the DejaVu faces registered and reproducible metadata.

    The creation date is the document's own date (issue or generation day, midnight UTC), so the
    same input renders the same bytes. The faces are per-document copies of fonts parsed once per
    process (see the module docstring); the output is the same as with ``FPDF.add_font``.
    """
    pdf = _document_class(cls)(orientation=orientation, unit="mm", format="Letter")
    _register_fonts(pdf)
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
