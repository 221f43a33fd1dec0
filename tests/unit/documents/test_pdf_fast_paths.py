"""The speed-ups in ``_pdf``, ``_pdf_lines`` and ``qr`` change no byte of any document.

Each document is rendered twice: as shipped (fonts parsed once per process, subsets cut from the
working fonts, lines broken by ``_wrap_words``, the QR image drawn from its matrix) and
with every shortcut switched off (fpdf2's own ``add_font`` and ``output``, ``multi_cell`` for every
fit, segno's PNG) — the plain fpdf2 way the documents were first written. The bytes must be equal.
"""

import dataclasses
import io
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import segno
from fpdf import FPDF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imh_course.documents import _pdf, _pdf_lines, certificate
from imh_course.documents.certificate import render_certificate_pdf
from imh_course.documents.training_log import training_log_pdf

from .test_certificate import CE, COMPLETION
from .test_training_log import LOG, make_log, meeting


def _plain_register_fonts(pdf: FPDF) -> None:
    for style, path in _pdf.FONT_FILES.items():
        pdf.add_font(_pdf.FAMILY, style, path)


def _png_qr(url: str) -> io.BytesIO:
    png = io.BytesIO()
    segno.make(url, error="m", micro=False).save(png, kind="png", scale=8, border=4)
    png.seek(0)
    return png


@pytest.fixture
def plain(monkeypatch):
    """Render with every shortcut off; returns a function that calls ``render`` that way."""

    def run(render, *args):
        with monkeypatch.context() as patch:
            patch.setattr(_pdf, "_register_fonts", _plain_register_fonts)
            patch.setattr(_pdf, "_document_class", lambda cls: cls)
            patch.setattr(_pdf_lines, "_SPECIAL", re.compile("(?s)."))  # every text goes through multi_cell
            patch.setattr(certificate, "qr_image", _png_qr)
            return render(*args)

    return run


NAMES = [
    "Zoë Ñuñez-Ørsted",  # Latin-1: the smallest working font
    "Łukasz Żółć-Dvořák",  # Latin Extended-A: the second working font
    "Nguyễn Thị Ánh Tuyết",  # Vietnamese
    "Αλέξανδρος Παπαδόπουλος",  # Greek: the full font file
    "Zoë 王小明",  # CJK: printed as '?'
    "Ω Ohm Ω",  # U+2126 and U+03A9 share outlines: cmap aliases must match
    ("Maximiliana Esperanza Concepción de la Santísima Trinidad " * 3)[:120].strip(),  # shrinks, wraps
]


@pytest.mark.parametrize("name", NAMES)
def test_certificate_bytes_equal_plain_fpdf2(plain, name):
    for facts in (
        dataclasses.replace(CE, learner_name=name),
        dataclasses.replace(COMPLETION, learner_name=name),
    ):
        assert render_certificate_pdf(facts) == plain(render_certificate_pdf, facts)


def test_overflowing_certificate_bytes_equal_plain_fpdf2(plain):
    """Every block at its minimum size, cut with an ellipsis: the slow path, same bytes."""
    facts = dataclasses.replace(
        CE,
        learner_name="Maximiliana Esperanza Concepción " * 8,
        course_title="Infant Mental Health: Theory to Practice " * 4,
        offering_label="Spring 2025 cohort with an unusually long offering label " * 2,
        approval_statement="word " * 1000,
        coordinator_name="Dr. Amara Okafor-Whitfield, LCSW-R, IMH-E® Infant Mental Health Mentor " * 2,
    )
    assert render_certificate_pdf(facts) == plain(render_certificate_pdf, facts)


_text = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz ABCXYZ ÀÉÎÕÜßçøłŋΩЖ–—·…'\"  WWWMMMiiil.,-\u00ad"),
    min_size=1,
    max_size=140,
).filter(str.strip)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_text, title=_text, coordinator=_text, statement=_text)
def test_any_certificate_bytes_equal_plain_fpdf2(plain, name, title, coordinator, statement):
    facts = dataclasses.replace(
        CE, learner_name=name, course_title=title, coordinator_name=coordinator, approval_statement=statement
    )
    assert render_certificate_pdf(facts) == plain(render_certificate_pdf, facts)


@pytest.mark.parametrize(
    "log",
    [LOG, make_log((meeting(1),), name="Иван 王"), make_log(tuple(meeting(i % 11 + 1) for i in range(30)))],
)
def test_training_log_bytes_equal_plain_fpdf2(plain, log):
    assert training_log_pdf(log) == plain(training_log_pdf, log)


def test_concurrent_renders_equal_sequential_ones():
    """Documents rendered at once in threads share the parsed fonts but nothing they change."""
    facts = [
        dataclasses.replace(CE, learner_name=name, certificate_id=f"CERT-{i}") for i, name in enumerate(NAMES)
    ]
    expected = [render_certificate_pdf(f) for f in facts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(render_certificate_pdf, facts * 2)) == expected * 2


_words = st.text(
    alphabet=st.sampled_from("abcdefghij klmnop WWMiil ÀÉÎÕÜß–—·…'.,-0123 "), min_size=1, max_size=300
)


@settings(max_examples=300, deadline=None)
@given(
    text=_words,
    style=st.sampled_from(["", "B"]),
    size=st.sampled_from([5.5, 8.5, 9, 11.5, 12, 20, 30]),
    width=st.floats(min_value=3, max_value=240),
    nudge=st.sampled_from([None, 0.0, 1e-9, -1e-9, 2e-9, 1e-12]),
)
def test_word_wrap_equals_multi_cell(text, style, size, width, nudge):
    """``_wrap_words`` breaks lines exactly where fpdf2's multi_cell does, tolerance edges included."""
    from fpdf.enums import MethodReturnValue, WrapMode

    text = _pdf.printable(text)
    if not text:
        return
    pdf = _pdf.new_pdf(orientation="landscape", title="t", author="a", subject="s", created=CE.issue_date)
    pdf.add_page()
    pdf.set_font(_pdf.FAMILY, style, size)
    if nudge is not None:  # a width that ends exactly at (or a hair around) a character boundary
        width = pdf.get_string_width(text[: max(1, len(text) // 2)]) + 2 * pdf.c_margin + nudge

    def outcome(wrap):  # noqa: ANN001, ANN202
        try:
            return wrap()
        except Exception as exc:  # noqa: BLE001 - both must fail the same way
            return type(exc).__name__

    expected = outcome(
        lambda: pdf.multi_cell(
            width, text=text, dry_run=True, output=MethodReturnValue.LINES, wrapmode=WrapMode.WORD
        )
    )
    assert outcome(lambda: _pdf_lines._wrap_words(pdf, text, width)) == expected
