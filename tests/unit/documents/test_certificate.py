"""Certificates: every field printed, the two ledgers kept apart, one page whatever the input."""

import dataclasses
import io
import json
import logging
from datetime import date, datetime, timedelta

import pytest
import segno
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from imh_course.documents._pdf import format_date, format_date_range, unsupported_characters
from imh_course.documents.certificate import (
    CertificateFacts,
    CertificateKind,
    facts_digest,
    render_certificate_pdf,
)

STATEMENT = (
    "Riverside Family Institute is recognized by the New York State Education Department's State "
    "Board for Social Work as an approved provider of continuing education for licensed social "
    "workers #SW-0057."
)
CE = CertificateFacts(
    certificate_id="CERT-7Q2X-91KD",
    version=2,
    kind=CertificateKind.CE,
    learner_name="Zoë Ñuñez-Ørsted",
    license_type="Licensed Master Social Worker (LMSW)",
    license_number="098765",
    provider_name="Riverside Family Institute",
    board_name="NYSED State Board for Social Work",
    provider_number="SW-0057",
    approval_statement=STATEMENT,
    course_title="Infant Mental Health: Theory to Practice",
    offering_label="Spring 2025 cohort",
    first_meeting=date(2025, 3, 4),
    last_meeting=date(2025, 5, 13),
    delivery_format="In person",
    ce_hours="16.50",
    face_to_face_hours="16.50",
    independent_hours="6.05",
    issue_date=date(2025, 5, 20),
    coordinator_name="Dr. Amara Okafor",
    verification_url="https://imh.example.org/verify/k3J9xQ2mP7vR",
)
COMPLETION = dataclasses.replace(
    CE,
    kind=CertificateKind.COMPLETION,
    ce_hours=None,
    face_to_face_hours="15.00",
    delivery_format="Live online",
    learner_name="Nguyễn Thị Ánh",
)
FOOTER_TOP_PT = 612 - 163 * 72 / 25.4  # the body must end above the signature/QR band (163 mm)
FRAME_PT = 11 * 72 / 25.4


def norm(text: str) -> str:
    return " ".join(text.split())


def reader(facts: CertificateFacts) -> PdfReader:
    return PdfReader(io.BytesIO(render_certificate_pdf(facts)))


def page_text(facts: CertificateFacts) -> str:
    pdf = reader(facts)
    assert len(pdf.pages) == 1
    return norm(pdf.pages[0].extract_text())


def fragments(facts: CertificateFacts) -> list[tuple[str, float, float]]:
    """(text, x, y) of every drawn line, y in points from the bottom, in drawing order."""
    found: list[tuple[str, float, float]] = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            found.append((text.strip(), tm[4], tm[5]))

    reader(facts).pages[0].extract_text(visitor_text=visit)
    return found


def expected_ce_fields(facts: CertificateFacts) -> dict[str, str]:
    return {
        "title": "Certificate of Continuing Education",
        "learner_name": facts.learner_name,
        "license_type": facts.license_type,
        "license_number": f"License No. {facts.license_number}",
        "provider_name": facts.provider_name,
        "board_name": facts.board_name,
        "provider_number": f"Provider No. {facts.provider_number}",
        "approval_statement": facts.approval_statement,
        "course_title": facts.course_title,
        "offering_label": facts.offering_label,
        "dates": format_date_range(facts.first_meeting, facts.last_meeting),
        "delivery_format": facts.delivery_format,
        "ce_hours": f"CE contact hours: {facts.ce_hours}",
        "face_to_face_hours": f"Face-to-face clock hours attended: {facts.face_to_face_hours}",
        "independent_hours": f"Independent learning: {facts.independent_hours} hours — not eligible for CE",
        "certificate_id": f"Certificate ID: {facts.certificate_id}",
        "version": f"Version {facts.version}",
        "issue_date": f"Issued {format_date(facts.issue_date)}",
        "coordinator_name": facts.coordinator_name,
        "signature_role": "Course Coordinator",
        "verification_url": facts.verification_url,
    }


def test_ce_certificate_prints_every_field():
    """A CE certificate prints every DOMAIN.md field, independent hours labelled not eligible for CE."""
    text = page_text(CE)
    missing = {name: value for name, value in expected_ce_fields(CE).items() if norm(value) not in text}
    assert missing == {}


def test_completion_certificate_prints_its_fields():
    """A certificate of completion labels both face-to-face clock hours and independent hours not CE."""
    text = page_text(COMPLETION)
    expected = [
        "Certificate of Completion",
        COMPLETION.learner_name,
        COMPLETION.provider_name,
        COMPLETION.course_title,
        COMPLETION.offering_label,
        "March 4 – May 13, 2025",
        "Live online",
        "Face-to-face clock hours: 15.00 (not CE credit)",
        "Independent learning: 6.05 hours — not eligible for CE",
        "Certificate ID: CERT-7Q2X-91KD",
        "Version 2",
        "Issued May 20, 2025",
        "Dr. Amara Okafor",
        "Course Coordinator",
        COMPLETION.verification_url,
    ]
    assert [value for value in expected if value not in text] == []


def test_completion_certificate_shows_no_ce_or_approval():
    """A certificate of completion never mentions CE contact hours, the board approval or the licence."""
    text = page_text(COMPLETION)
    for forbidden in (
        "CE contact hours",
        "Continuing Education",
        STATEMENT[:40],
        "SW-0057",
        "098765",
        "LMSW",
    ):
        assert forbidden not in text


def test_ledgers_are_printed_on_separate_lines():
    """CE hours and independent learning hours are separate lines; independent carries the not-CE label."""
    lines = [text for text, _, _ in fragments(CE)]
    assert "CE contact hours: 16.50" in lines
    assert "Independent learning: 6.05 hours — not eligible for CE" in lines


@pytest.mark.parametrize(
    "name",
    [
        "Zoë Ñuñez-Ørsted",
        "Nguyễn Thị Ánh Tuyết",
        "Αλέξανδρος Παπαδόπουλος",
        "Иван Петрович Смирнов",
        "Łukasz Żółć-Dvořák",
        "Şükrü Ğülşen",
    ],
)
def test_non_ascii_names_round_trip(name):
    """Latin, Vietnamese, Greek and Cyrillic names render with the bundled font and extract unchanged."""
    assert unsupported_characters(name) == ""
    assert name in page_text(dataclasses.replace(CE, learner_name=name))


def test_cjk_name_renders_without_error_or_warning(caplog):
    """DejaVu lacks CJK: such characters print as '?' with no exception, no warning and no fpdf log."""
    facts = dataclasses.replace(CE, learner_name="Zoë Ñuñez-Ørsted 王小明")
    assert unsupported_characters(facts.learner_name) == "王小明"
    with caplog.at_level(logging.WARNING):
        text = page_text(facts)
    assert "Zoë Ñuñez-Ørsted ???" in text
    assert [record for record in caplog.records if record.name.startswith("fpdf")] == []


def test_long_name_and_statement_stay_on_one_page_in_full():
    """A 120-character name and a 600-character approval statement wrap/shrink onto one page, uncut."""
    name = ("Maximiliana Esperanza Concepción de la Santísima Trinidad " * 3)[:120].strip()
    statement = ("This provider is approved by the board to offer continuing education. " * 10)[:600].strip()
    assert len(name) >= 119 and len(statement) >= 599
    facts = dataclasses.replace(CE, learner_name=name, approval_statement=statement)
    text = page_text(facts)
    assert norm(name) in text
    assert norm(statement) in text


@pytest.mark.parametrize("size", [600, 1500, 5000])
def test_body_never_overflows_into_footer_or_frame(size):
    """Whatever the text length, every body line sits above the footer band and inside the frame."""
    long = "word " * (size // 5)
    facts = dataclasses.replace(
        CE,
        learner_name=("Maximiliana Esperanza Concepción " * 8)[:120],
        course_title="Infant Mental Health: Theory to Practice " * 4,
        offering_label="Spring 2025 cohort with an unusually long offering label " * 2,
        provider_name="Riverside Family Institute for Infant and Early Childhood Mental Health " * 2,
        board_name="New York State Education Department's State Board for Mental Health Practitioners",
        approval_statement=long,
        coordinator_name="Dr. Amara Okafor-Whitfield, LCSW-R, IMH-E® Infant Mental Health Mentor " * 2,
    )
    assert len(reader(facts).pages) == 1
    found = fragments(facts)
    footer_start = [text for text, _, _ in found].index("Course Coordinator") - 1
    for text, _x, y in found[:footer_start]:
        assert y > FOOTER_TOP_PT, text
    for text, x, y in found:
        assert FRAME_PT < x < 792 - FRAME_PT and FRAME_PT < y < 612 - FRAME_PT, text


def test_exactly_one_image_and_it_is_the_verification_qr():
    """The page holds one image XObject whose modules equal a QR code of the verification URL only."""
    page = reader(CE).pages[0]
    xobjects = page["/Resources"]["/XObject"]
    images = [key for key in xobjects if xobjects[key].get_object()["/Subtype"] == "/Image"]
    assert len(images) == 1
    image = page.images[0].image.convert("L")
    matrix = segno.make(CE.verification_url, error="m", micro=False).matrix
    modules = len(matrix) + 8  # 4-module quiet zone on each side
    assert image.width == image.height and image.width % modules == 0
    scale = image.width // modules
    decoded = [
        [
            image.getpixel(((col + 4) * scale + scale // 2, (row + 4) * scale + scale // 2)) < 128
            for col in range(len(matrix))
        ]
        for row in range(len(matrix))
    ]
    assert decoded == [[bool(cell) for cell in row] for row in matrix]


def test_pdf_metadata_title_and_author():
    """The PDF's Title names the certificate and learner; Author is the provider."""
    meta = reader(CE).metadata
    assert meta.title == "Certificate of Continuing Education — Zoë Ñuñez-Ørsted"
    assert meta.author == "Riverside Family Institute"


def test_page_is_landscape_letter():
    """One landscape US Letter page (792 × 612 pt)."""
    box = reader(CE).pages[0].mediabox
    assert (float(box.width), float(box.height)) == (792.0, 612.0)


def test_rendering_is_reproducible():
    """The same facts render the same bytes, so a stored snapshot can be re-rendered identically."""
    assert render_certificate_pdf(CE) == render_certificate_pdf(CE)


def test_round_trip_through_json():
    """to_dict is JSON-safe and from_dict restores an equal snapshot."""
    for facts in (CE, COMPLETION):
        data = json.loads(json.dumps(facts.to_dict()))
        assert data["first_meeting"] == "2025-03-04"
        assert data["kind"] == facts.kind.value
        assert CertificateFacts.from_dict(data) == facts


def test_from_dict_rejects_missing_or_unknown_keys():
    """A snapshot with missing or extra keys is an error, never silently accepted."""
    data = CE.to_dict()
    with pytest.raises(ValueError, match="missing=\\['version'\\]"):
        CertificateFacts.from_dict({k: v for k, v in data.items() if k != "version"})
    with pytest.raises(ValueError, match="unexpected=\\['email'\\]"):
        CertificateFacts.from_dict({**data, "email": "x@example.org"})


def test_digest_is_stable():
    """The digest of a snapshot is pinned: canonical JSON must not drift between releases."""
    assert facts_digest(CE) == facts_digest(CertificateFacts.from_dict(CE.to_dict()))
    assert facts_digest(CE) == "8c566243e505a80600fc9da279d74df5a5aa00561bbe472e556464a116952221"


def _changed(value):
    if isinstance(value, bool):
        raise AssertionError
    if isinstance(value, int):
        return value + 1
    if isinstance(value, date):
        return value + timedelta(days=1)
    if isinstance(value, str) and value[:1].isdigit() and "." in value:
        return f"{float(value) + 0.25:.2f}"
    return value + "x"


@pytest.mark.parametrize(
    "field",
    [
        f.name
        for f in dataclasses.fields(CertificateFacts)
        if f.name not in {"kind", "first_meeting", "last_meeting"}
    ],
)
def test_digest_changes_when_any_field_changes(field):
    """Changing any single printed fact changes the digest."""
    changed = dataclasses.replace(CE, **{field: _changed(getattr(CE, field))})
    assert facts_digest(changed) != facts_digest(CE)


def test_digest_changes_with_kind_and_dates():
    """Kind and meeting dates are part of the digest too."""
    digests = {
        facts_digest(CE),
        facts_digest(dataclasses.replace(CE, kind=CertificateKind.COMPLETION, ce_hours=None)),
        facts_digest(dataclasses.replace(CE, first_meeting=date(2025, 3, 5))),
        facts_digest(dataclasses.replace(CE, last_meeting=date(2025, 5, 14))),
        facts_digest(dataclasses.replace(CE, board_name=None)),
    }
    assert len(digests) == 5


_names = st.text(min_size=1, max_size=80).filter(str.strip)


@given(name=_names, title=_names, coordinator=_names)
def test_any_text_round_trips_and_keeps_its_digest(name, title, coordinator):
    """Arbitrary Unicode in the text fields survives JSON round trip with an unchanged digest."""
    facts = dataclasses.replace(CE, learner_name=name, course_title=title, coordinator_name=coordinator)
    restored = CertificateFacts.from_dict(json.loads(json.dumps(facts.to_dict())))
    assert restored == facts
    assert facts_digest(restored) == facts_digest(facts)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ce_hours": None}, "needs ce_hours"),
        ({"license_number": None}, "needs license_number"),
        ({"approval_statement": " "}, "needs approval_statement"),
        ({"provider_number": None}, "needs provider_number"),
        ({"kind": CertificateKind.COMPLETION}, "no CE hours"),
        ({"ce_hours": "16.5"}, "ce_hours must look like"),
        ({"independent_hours": "six"}, "independent_hours must look like"),
        ({"version": 0}, "version"),
        ({"version": True}, "version"),
        ({"learner_name": "  "}, "learner_name"),
        ({"issue_date": datetime(2025, 5, 20)}, "issue_date"),
        ({"last_meeting": date(2025, 3, 1)}, "before first_meeting"),
        ({"verification_url": "javascript:alert(1)"}, "http"),
        ({"kind": "bogus"}, "bogus"),
        ({"learner_name": "Zo\udce9"}, "not valid Unicode"),
    ],
)
def test_malformed_snapshots_are_refused(changes, message):
    """A snapshot that would print something wrong or ambiguous cannot be constructed."""
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(CE, **changes)


def test_kind_given_as_string_is_coerced():
    """kind may be passed as its string value; the snapshot holds the enum."""
    facts = dataclasses.replace(CE, kind="ce")
    assert facts.kind is CertificateKind.CE
    assert facts == CE


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:37377/verify/WdPsxCvmZnREsW4P2CO2Vw",  # wrapped its last letter at 9 pt
        "https://training.spcc-rochester.org/imh-course/verify/WdPsxCvmZnREsW4P2CO2Vw",
    ],
)
def test_verification_url_is_printed_whole_on_one_line(url):
    """A reader retypes the URL from paper: it is one unbroken line, shrunk if need be, never split."""
    facts = dataclasses.replace(CE, verification_url=url)
    lines = [text for text, _x, _y in fragments(facts)]
    assert url in lines
