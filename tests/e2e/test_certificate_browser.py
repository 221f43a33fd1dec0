"""Evaluation, attestation, issue, download and verification of a certificate, in a real Chromium."""

from __future__ import annotations

import re
from pathlib import Path

from imh_course.extensions import db
from imh_course.models import Certificate
from tests.conftest import TEST_PASSWORD
from tests.e2e.conftest import assert_accessible, sign_in
from tests.integration.certificate_helpers import attend, pdf_text, qr_payload_matches

RATINGS = {
    "The course objectives were met.": "5 — Strongly agree",
    "The instructors were knowledgeable and effective.": "4 — Agree",
    "The course is relevant to my work with infants, young children and families.": "5 — Strongly agree",
}


def sign_out(page) -> None:  # noqa: ANN001
    page.get_by_role("button", name=re.compile(r"^Sign out")).click()
    page.wait_for_url(re.compile(r"/login$"))


def evaluate_and_attest(page, base: str, offering_id: int) -> None:  # noqa: ANN001
    sign_in(page, base, "lcsw@example.org", TEST_PASSWORD)
    page.wait_for_url(re.compile(rf"/learn/offerings/{offering_id}$"))
    page.get_by_role("link", name="Evaluation & certificate").click()
    page.wait_for_url(re.compile(r"/certificates$"))
    assert_accessible(page)
    page.get_by_role("link", name="Fill in the evaluation").click()
    assert_accessible(page)
    for question, answer in RATINGS.items():
        page.get_by_role("group", name=question).get_by_label(answer).check()
    page.get_by_label("Comments (optional)").fill("The reflective exercises helped me most.")
    page.get_by_role("button", name="Submit the evaluation").click()
    page.wait_for_url(re.compile(r"/certificates$"))
    assert "your evaluation is submitted" in page.get_by_role("status").first.inner_text()
    assert "14.75" in page.locator("#attest tfoot").inner_text()
    page.get_by_label("I attest that the attendance recorded above is accurate.").check()
    page.get_by_role("button", name="Attest").click()
    page.wait_for_url(re.compile(r"/certificates$"))
    assert page.get_by_text("You attested on").is_visible()
    assert_accessible(page)
    sign_out(page)


def issue_as_coordinator(page, base: str, offering_id: int) -> None:  # noqa: ANN001
    sign_in(page, base, "coordinator@example.org", TEST_PASSWORD)
    page.goto(f"{base}/staff/offerings/{offering_id}")
    page.get_by_role("link", name="Certificates").click()
    page.wait_for_url(re.compile(r"/certificates$"))
    assert_accessible(page)
    page.get_by_role(
        "button", name="Issue certificate of continuing education to Lena M. Social-Worker"
    ).click()
    page.wait_for_url(re.compile(r"/certificates#learner-\d+$"))
    assert "Certificate issued to Lena M. Social-Worker" in page.get_by_role("status").first.inner_text()
    assert_accessible(page)
    sign_out(page)


def test_lcsw_evaluates_attests_and_downloads_a_verifiable_ce_certificate(page, live_server, demo, tmp_path):
    """The LCSW's CE certificate matches the attendance (14.75 hours); its verification page confirms it."""
    attend(demo.offering_id, demo.lcsw_id, 10, late={4: 10})
    base = live_server.url
    evaluate_and_attest(page, base, demo.offering_id)
    issue_as_coordinator(page, base, demo.offering_id)

    sign_in(page, base, "lcsw@example.org", TEST_PASSWORD)
    page.goto(f"{base}/learn/offerings/{demo.offering_id}/certificates")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download your certificate of continuing education (PDF)").click()
    target = Path(tmp_path) / "certificate.pdf"
    info.value.save_as(target)
    pdf = target.read_bytes()
    db.session.rollback()  # a fresh snapshot: the live server committed in another thread
    certificate = db.session.query(Certificate).one()
    url = f"{base}/verify/{certificate.public_id}"
    text = pdf_text(pdf)
    assert "CE contact hours: 14.75" in text and "Lena M. Social-Worker" in text and url in text
    assert qr_payload_matches(pdf, url)

    page.get_by_role("link", name="Its verification page").click()
    page.wait_for_url(url)
    assert page.locator(".verify-status").inner_text().startswith("Valid.")
    assert "14.75" in page.locator("dl.facts").inner_text()
    assert_accessible(page)


def test_coordinator_revokes_and_the_verification_page_says_so(page, live_server, demo):
    """After the coordinator revokes a certificate (with a reason) its verification page shows "Revoked"."""
    attend(demo.offering_id, demo.lcsw_id, 10, late={4: 10})
    base = live_server.url
    evaluate_and_attest(page, base, demo.offering_id)
    issue_as_coordinator(page, base, demo.offering_id)
    db.session.rollback()  # a fresh snapshot: the live server committed in another thread
    public_id = db.session.query(Certificate).one().public_id

    sign_in(page, base, "coordinator@example.org", TEST_PASSWORD)
    page.goto(f"{base}/staff/offerings/{demo.offering_id}/certificates")
    page.get_by_label("Reason for revoking").fill("Issued to the wrong cohort")
    page.get_by_role("button", name="Revoke the certificate of Lena M. Social-Worker").click()
    assert f"Certificate {public_id} is revoked." in page.get_by_role("status").first.inner_text()
    assert_accessible(page)
    sign_out(page)

    page.goto(f"{base}/verify/{public_id}")
    assert page.locator(".verify-status").inner_text().startswith("Revoked.")
    assert "wrong cohort" not in page.content()
    assert_accessible(page)
