"""Bulk certificates: issue every due certificate at once (browser and CLI) and download them as a ZIP."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
from sqlalchemy import func, select

from imh_course.extensions import db
from imh_course.models import AuditEvent, Certificate, CertificateStatus, Enrolment, EnrolmentStatus
from tests.integration.coordinator_helpers import enrol_many, give_records


def valid_certificates() -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).where(Certificate.status == CertificateStatus.VALID)))


@pytest.fixture
def cohort(demo):
    """Four learners due (LCSW, LMHC and two more), the nurse not eligible, one withdrawn learner eligible."""
    give_records(demo.offering_id, demo.lcsw_id)
    give_records(demo.offering_id, demo.lmhc_id, attended=4)
    give_records(demo.offering_id, demo.nurse_id, attended=4)  # completion needs 10 of 11: not eligible
    extra = enrol_many(demo.offering_id, 3, prefix="extra")
    for uid in extra:
        give_records(demo.offering_id, uid)
    withdrawn = db.session.scalar(select(Enrolment).where(Enrolment.user_id == extra[2]))
    withdrawn.status = EnrolmentStatus.WITHDRAWN
    db.session.commit()
    return demo


def test_bulk_issue_in_the_browser_shows_progress_and_counts(client, cohort, login):
    """One POST issues every due certificate and shows a progress bar with the counts."""
    login("coordinator@example.org")
    url = f"/staff/offerings/{cohort.offering_id}/certificates/bulk"
    page = client.get(url).get_data(as_text=True)
    assert "4 due now" in page and "1 not eligible yet" in page and "Issue 4 certificates" in page
    result = client.post(url)
    html = result.get_data(as_text=True)
    assert result.status_code == 200
    assert re.search(r'<progress id="bulk-progress" class="bulk" value="5" max="5">', html)
    assert "4 issued" in html and "0 failed" in html and "1 not eligible" in html
    assert "Processed 5 of 5 enrolled" in html
    assert len(valid_certificates()) == 4
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "certificate.issue")
        )
        == 4
    )
    again = client.post(url).get_data(as_text=True)
    # a repeat counts what it examined: the four it issued before and the nurse still not eligible
    assert "0 issued" in again and "4 already issued" in again and "1 not eligible" in again
    assert "Processed 5 of 5 enrolled" in again
    assert len(valid_certificates()) == 4
    assert "No certificate is due right now." in client.get(url).get_data(as_text=True)


def test_cli_issues_with_a_progress_bar_and_is_safe_to_repeat(runner, cohort):
    """`flask imh certificates issue` issues the due certificates once; a second run issues none."""
    args = ["imh", "certificates", "issue", "--offering", str(cohort.offering_id)]
    args += ["--coordinator", "coordinator@example.org", "--base-url", "https://imh.example.org"]
    first = runner.invoke(args=args)
    assert first.exit_code == 0, first.output
    # every active enrolment is counted: four issued, the nurse not eligible (the withdrawn one is not)
    assert "4 issued, 0 already issued, 1 not eligible, 0 failed, of 5 enrolled" in first.output
    assert "Issuing certificates" in first.output  # click.progressbar's label (stderr is mixed in)
    urls = {c.facts["verification_url"] for c in valid_certificates()}
    assert all(u.startswith("https://imh.example.org/verify/") for u in urls)
    second = runner.invoke(args=args)
    assert "0 issued, 4 already issued, 1 not eligible, 0 failed, of 5 enrolled" in second.output
    assert len(valid_certificates()) == 4


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--offering", "999", "--coordinator", "coordinator@example.org", "--base-url", "http://x"],
            "No offering",
        ),
        (
            ["--offering", "{o}", "--coordinator", "instructor@example.org", "--base-url", "http://x"],
            "not a coordinator",
        ),
        (["--offering", "{o}", "--coordinator", "coordinator@example.org"], "IMH_BASE_URL"),
    ],
)
def test_cli_refuses_bad_arguments(runner, demo, extra, message):
    """Unknown offering, a non-coordinator or no site address: a clear error and nothing issued."""
    args = ["imh", "certificates", "issue"] + [a.replace("{o}", str(demo.offering_id)) for a in extra]
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert message in result.output
    assert valid_certificates() == []


def test_zip_holds_every_valid_certificate_and_an_index(client, cohort, login):
    """The ZIP has one PDF per valid certificate plus index.csv; downloading it is audited."""
    login("coordinator@example.org")
    client.post(f"/staff/offerings/{cohort.offering_id}/certificates/bulk")
    response = client.get(f"/staff/offerings/{cohort.offering_id}/certificates.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    body = response.get_data()
    response.close()  # a WSGI server closes the response (and with it the spooled file)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = archive.namelist()
        pdfs = [n for n in names if n.endswith(".pdf")]
        assert len(pdfs) == 4
        assert all(archive.read(n).startswith(b"%PDF") for n in pdfs)
        index = list(csv.reader(io.StringIO(archive.read("index.csv").decode("utf-8-sig"))))
    assert index[0][:2] == ["Learner", "Certificate ID"] and len(index) == 5
    # a leading "-" of an id is neutralised with an apostrophe in the index, like every CSV cell
    assert {row[1].removeprefix("'") for row in index[1:]} == {c.public_id for c in valid_certificates()}
    assert any(n.startswith("Lena-M-Social-Worker-") for n in pdfs)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export.download")).one()
    assert event.after == {"report": "certificates_zip", "format": "zip", "rows": 4}


def test_instructors_cannot_bulk_issue_or_download(client, demo, login):
    """Issuing and the ZIP are coordinator actions."""
    login("instructor@example.org")
    assert client.get(f"/staff/offerings/{demo.offering_id}/certificates/bulk").status_code == 403
    assert client.post(f"/staff/offerings/{demo.offering_id}/certificates/bulk").status_code == 403
    assert client.get(f"/staff/offerings/{demo.offering_id}/certificates.zip").status_code == 403
