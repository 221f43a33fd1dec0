"""Certificates: the frozen snapshot of certified facts, its hash, and the one-page PDF.

NYSED accepts only certificates on audit, and a certificate must keep saying what was true when
it was issued. So the PDF is rendered from :class:`CertificateFacts` — a snapshot taken at issue
time, stored with :func:`facts_digest` and never re-derived — and can be re-rendered byte for
byte from the stored JSON. CE contact hours and independent learning hours are printed on
separate lines and the latter is always labelled "not eligible for CE" (the two ledgers never
mix). A certificate of completion prints no CE hours and no board approval.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any

from fpdf import FPDF

from imh_course.documents._pdf import FAMILY, format_date, format_date_range, line_height, new_pdf, printable
from imh_course.documents._pdf_lines import fit_lines
from imh_course.documents.qr import qr_image
from imh_course.rules.completion import CertificateKind

__all__ = ["CertificateFacts", "CertificateKind", "facts_digest", "render_certificate_pdf"]

_HOURS = re.compile(r"\d+\.\d{2}")
_DATE_FIELDS = ("first_meeting", "last_meeting", "issue_date")
_REQUIRED_TEXT = (
    "certificate_id",
    "learner_name",
    "provider_name",
    "course_title",
    "offering_label",
    "delivery_format",
    "coordinator_name",
    "verification_url",
)
_CE_ONLY = ("license_type", "license_number", "provider_number", "approval_statement")

TITLES = {
    CertificateKind.CE: "Certificate of Continuing Education",
    CertificateKind.COMPLETION: "Certificate of Completion",
}
INDEPENDENT_NOTE = "not eligible for CE"


@dataclass(frozen=True)
class CertificateFacts:
    """Everything printed on one certificate version, exactly as it was at issue time.

    Hours are preformatted strings with two decimals (``"16.50"``), as the credit engine shows
    them, so the certificate cannot round differently from the screens. A CE certificate needs
    ``ce_hours``, the licence and the board approval; a certificate of completion must have
    ``ce_hours=None`` and never prints licence or approval fields.
    """

    certificate_id: str
    version: int
    kind: CertificateKind
    learner_name: str
    license_type: str | None
    license_number: str | None
    provider_name: str
    board_name: str | None
    provider_number: str | None
    approval_statement: str | None
    course_title: str
    offering_label: str
    first_meeting: date
    last_meeting: date
    delivery_format: str
    ce_hours: str | None
    face_to_face_hours: str
    independent_hours: str
    issue_date: date
    coordinator_name: str
    verification_url: str

    def __post_init__(self) -> None:
        # A malformed snapshot would be printed and hashed forever: refuse it at construction.
        object.__setattr__(self, "kind", CertificateKind(self.kind))
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise ValueError(f"version must be an integer >= 1, got {self.version!r}")
        for name in _REQUIRED_TEXT:
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{name} must be a non-empty string")
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, str) and not isinstance(value, CertificateKind):
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError as exc:  # lone surrogates: the digest could not be computed
                    raise ValueError(f"{field.name} is not valid Unicode text") from exc
        for name in _DATE_FIELDS:
            if type(getattr(self, name)) is not date:
                raise ValueError(f"{name} must be a datetime.date (not a datetime)")
        if self.last_meeting < self.first_meeting:
            raise ValueError("last_meeting is before first_meeting")
        if not self.verification_url.startswith(("https://", "http://")):
            raise ValueError("verification_url must be an http(s) URL")
        for name in ("face_to_face_hours", "independent_hours", "ce_hours"):
            value = getattr(self, name)
            if (value is not None or name != "ce_hours") and not (
                isinstance(value, str) and _HOURS.fullmatch(value)
            ):
                raise ValueError(f"{name} must look like '16.50', got {value!r}")
        if self.kind is CertificateKind.CE:
            if self.ce_hours is None:
                raise ValueError("a CE certificate needs ce_hours")
            for name in _CE_ONLY:
                value = getattr(self, name)
                if not isinstance(value, str) or not value.strip():
                    raise ValueError(f"a CE certificate needs {name}")
        elif self.ce_hours is not None:
            raise ValueError("a certificate of completion carries no CE hours")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict: dates as ISO strings, ``kind`` as its value."""
        data: dict[str, Any] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, CertificateKind):
                value = value.value
            data[field.name] = value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CertificateFacts:
        """Inverse of :meth:`to_dict`; unknown or missing keys are an error, not silently dropped."""
        names = {field.name for field in fields(cls)}
        if set(data) != names:
            missing, extra = sorted(names - set(data)), sorted(set(data) - names)
            raise ValueError(f"certificate facts keys mismatch: missing={missing} unexpected={extra}")
        values = dict(data)
        for name in _DATE_FIELDS:
            values[name] = date.fromisoformat(values[name])
        values["kind"] = CertificateKind(values["kind"])
        return cls(**values)


def facts_digest(facts: CertificateFacts) -> str:
    """SHA-256 (hex) of the canonical JSON of ``facts.to_dict()``: sorted keys, no spaces, UTF-8.

    Stored next to the snapshot so a later change to the stored facts is detectable.
    """
    canonical = json.dumps(facts.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --- layout -------------------------------------------------------------------------------------
# Landscape Letter, millimetres. Every text block has a maximum number of lines and a minimum
# font size, so the content height is bounded and the page can never overflow.
PAGE_W, PAGE_H = 279.4, 215.9
CONTENT_X, CONTENT_W = 24.0, PAGE_W - 48.0
NAVY, GOLD, INK, GREY = (31, 58, 95), (176, 141, 87), (34, 34, 34), (95, 99, 104)
BODY_BOTTOM = 162.0
QR_SIZE = 30.0


@dataclass(frozen=True)
class _Block:
    text: str
    style: str = ""
    size: float = 11.0
    min_size: float = 8.0
    max_lines: int = 1
    color: tuple[int, int, int] = INK
    gap_after: float = 1.5
    width: float = CONTENT_W


def _frame(pdf: FPDF) -> None:
    pdf.set_draw_color(*NAVY)
    pdf.set_line_width(1.2)
    pdf.rect(8, 8, PAGE_W - 16, PAGE_H - 16)
    pdf.set_draw_color(*GOLD)
    pdf.set_line_width(0.4)
    pdf.rect(11, 11, PAGE_W - 22, PAGE_H - 22)
    for x, y in ((11, 11), (PAGE_W - 11, 11), (11, PAGE_H - 11), (PAGE_W - 11, PAGE_H - 11)):
        pdf.set_fill_color(*GOLD)
        pdf.rect(x - 1.5, y - 1.5, 3, 3, style="F")


class _Fitter:
    """:func:`fit_lines` for blocks, memoised for one document: the body is measured (perhaps at
    several scales) and then drawn, and each block is fitted once, not at every step."""

    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf
        self._fits: dict[_Block, tuple[float, list[str]]] = {}

    def fit(self, block: _Block) -> tuple[float, list[str]]:
        found = self._fits.get(block)
        if found is None:
            found = self._fits[block] = fit_lines(
                self.pdf,
                block.text,
                width=block.width,
                style=block.style,
                size=block.size,
                min_size=block.min_size,
                max_lines=block.max_lines,
            )
        return found

    def measure(self, block: _Block) -> float:
        size, lines = self.fit(block)
        return len(lines) * line_height(size) + block.gap_after

    def centered(self, y: float, block: _Block) -> float:
        """Draw ``block`` centred from ``y``; return the y after it (including its gap)."""
        pdf = self.pdf
        size, lines = self.fit(block)
        pdf.set_font(FAMILY, block.style, size)
        pdf.set_text_color(*block.color)
        height = line_height(size)
        x = CONTENT_X + (CONTENT_W - block.width) / 2
        for line in lines:
            pdf.set_xy(x, y)
            pdf.cell(block.width, height, line, align="C")
            y += height
        return y + block.gap_after


def _scaled(blocks: list[_Block], scale: float) -> list[_Block]:
    return [
        replace(
            block,
            size=block.size * scale,
            min_size=min(block.min_size, block.size * scale),
            gap_after=block.gap_after * scale,
        )
        for block in blocks
    ]


def _body_blocks(facts: CertificateFacts) -> list[_Block]:
    ce = facts.kind is CertificateKind.CE
    dates = format_date_range(facts.first_meeting, facts.last_meeting)
    blocks = [
        _Block("This certifies that", size=12, color=GREY, gap_after=2.5),
        _Block(facts.learner_name, "B", size=30, min_size=12, max_lines=2, color=NAVY, gap_after=3),
    ]
    if ce:
        licence = f"{facts.license_type} · License No. {facts.license_number}"
        blocks.append(_Block(licence, size=11.5, max_lines=2, gap_after=4))
    completed = "has attended and completed" if ce else "has completed"
    blocks += [
        _Block(completed, size=12, color=GREY, gap_after=2),
        _Block(facts.course_title, "B", size=20, min_size=10, max_lines=2, color=NAVY, gap_after=2),
        _Block(f"{facts.offering_label} · {dates} · {facts.delivery_format}", size=12, max_lines=2,
               gap_after=5),
    ]  # fmt: skip
    if ce:
        blocks += [
            _Block(f"CE contact hours: {facts.ce_hours}", "B", size=15, gap_after=1.5),
            _Block(f"Face-to-face clock hours attended: {facts.face_to_face_hours}", size=11, gap_after=1),
        ]
    else:
        blocks.append(
            _Block(f"Face-to-face clock hours: {facts.face_to_face_hours} (not CE credit)", "B", size=14,
                   gap_after=1.5)
        )  # fmt: skip
    blocks.append(
        _Block(f"Independent learning: {facts.independent_hours} hours — {INDEPENDENT_NOTE}", size=11,
               color=GREY, gap_after=5)
    )  # fmt: skip
    if ce:
        board = f"{facts.board_name} · " if facts.board_name else ""
        blocks += [
            _Block(f"{board}Provider No. {facts.provider_number}", "B", size=9.5, min_size=6.5, max_lines=2,
                   gap_after=1),
            _Block(facts.approval_statement or "", size=8.5, min_size=5.5, max_lines=6, color=GREY,
                   gap_after=0, width=CONTENT_W - 20),
        ]  # fmt: skip
    return blocks


def _footer(pdf: FPDF, facts: CertificateFacts) -> None:
    """Signature (left), certificate identity (centre), QR code and URL (right)."""
    sig_x, sig_w, sig_y = 30.0, 78.0, 180.0
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.3)
    pdf.line(sig_x, sig_y, sig_x + sig_w, sig_y)
    size, lines = fit_lines(
        pdf, facts.coordinator_name, width=sig_w, style="B", size=11, min_size=7, max_lines=1
    )
    pdf.set_text_color(*INK)
    pdf.set_xy(sig_x, sig_y + 1)
    pdf.cell(sig_w, line_height(size), lines[0], align="C")
    pdf.set_font(FAMILY, "", 9)
    pdf.set_text_color(*GREY)
    pdf.set_xy(sig_x, sig_y + 1 + line_height(size))
    pdf.cell(sig_w, line_height(9), "Course Coordinator", align="C")

    mid_x, mid_w = 116.0, 96.0
    y = 170.0
    for text, style in (
        (f"Issued {format_date(facts.issue_date)}", "B"),
        (f"Certificate ID: {facts.certificate_id}", ""),
        (f"Version {facts.version}", ""),
        ("Verify this certificate at", ""),
    ):
        size, lines = fit_lines(pdf, text, width=mid_w, style=style, size=9, min_size=6, max_lines=1)
        pdf.set_text_color(*INK if style else GREY)
        pdf.set_xy(mid_x, y)
        pdf.cell(mid_w, line_height(size), lines[0], align="C")
        y += line_height(size)
    # A URL broken over two lines is one a reader retypes wrongly: shrink it onto one line first,
    # and wrap only what does not fit even at the smallest size.
    size, lines = fit_lines(
        pdf, facts.verification_url, width=mid_w, style="", size=9, min_size=6, max_lines=1
    )
    if lines[0] != printable(facts.verification_url):
        size, lines = fit_lines(
            pdf, facts.verification_url, width=mid_w, style="", size=6, min_size=6, max_lines=2
        )
    pdf.set_text_color(*NAVY)
    for line in lines:
        pdf.set_xy(mid_x, y)
        pdf.cell(mid_w, line_height(size), line, align="C", link=facts.verification_url)
        y += line_height(size)

    qr = qr_image(facts.verification_url)
    pdf.image(qr, x=PAGE_W - 24 - QR_SIZE, y=166, w=QR_SIZE, h=QR_SIZE, link=facts.verification_url)


def render_certificate_pdf(facts: CertificateFacts) -> bytes:
    """Render ``facts`` as one landscape Letter page and return the PDF bytes.

    Long names, titles and approval statements shrink and wrap within fixed bounds (cut with an
    ellipsis only past the minimum size — the full statement stays on the verification page);
    characters the bundled font lacks (e.g. CJK) print as ``?`` — see ``_pdf``.
    The QR code encodes only the verification URL. Same facts, same bytes.
    """
    title = TITLES[facts.kind]
    pdf = new_pdf(
        orientation="landscape",
        title=f"{title} — {facts.learner_name}",
        author=facts.provider_name,
        subject=f"{facts.course_title} · certificate {facts.certificate_id} v{facts.version}",
        created=facts.issue_date,
    )
    pdf.set_auto_page_break(False)
    pdf.set_margins(CONTENT_X, 14, CONTENT_X)
    pdf.add_page()
    _frame(pdf)

    fitter = _Fitter(pdf)
    provider = _Block(facts.provider_name, "B", size=12, min_size=7, color=GREY, gap_after=2)
    y = fitter.centered(18, provider)
    y = fitter.centered(y, _Block(title, "B", size=30, min_size=20, color=NAVY, gap_after=2))
    pdf.set_draw_color(*GOLD)
    pdf.set_line_width(0.6)
    pdf.line(PAGE_W / 2 - 40, y, PAGE_W / 2 + 40, y)

    # Each block's height is at most max_lines x line height at its (scaled) size, so shrinking
    # everything together always reaches a fit: at 0.5 the worst case needs ~80 of the ~115 mm.
    top = y + 4
    for scale in (1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55, 0.5):
        blocks = _scaled(_body_blocks(facts), scale)
        total = sum(fitter.measure(block) for block in blocks)
        if total <= BODY_BOTTOM - top:
            break
    y = top + max(0.0, (BODY_BOTTOM - top - total) / 2)
    for block in blocks:
        y = fitter.centered(y, block)

    _footer(pdf, facts)
    return bytes(pdf.output())
