"""A coordinator in a real Chromium: new offering → 11 meetings → roster import (bad file first) → matrix."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

from playwright.sync_api import expect

from tests.conftest import TEST_PASSWORD
from tests.e2e.conftest import assert_accessible, sign_in
from tests.integration.coordinator_helpers import give_records

HEADER = "name,email,discipline,license type,license number,funding"
BAD_ROSTER = "\r\n".join(
    [
        HEADER,
        "Zoë Ñuñez,zoe@example.org,Social work,LCSW,12345,grant-funded",
        "Sam Smith,not-an-email,,,,free",
    ]
)
GOOD_ROSTER = "\r\n".join(
    [
        HEADER,
        "Zoë Ñuñez,zoe@example.org,Social work,LCSW,012345,grant-funded",
        "Sam Smith,sam@example.org,Nursing,RN,,scholarship",
        '"=cmd|calc",formula@example.org,,,,',
    ]
)


def _csv_file(name: str, text: str) -> dict[str, object]:
    return {"name": name, "mimeType": "text/csv", "buffer": ("\ufeff" + text + "\r\n").encode("utf-8")}


def test_coordinator_creates_an_offering_imports_a_roster_and_audits_completion(page, live_server, demo):
    """The coordinator's whole journey works with the keyboard-reachable UI and passes axe on every page."""
    base = live_server.url
    sign_in(page, base, "coordinator@example.org", TEST_PASSWORD)
    page.goto(f"{base}/staff")
    assert_accessible(page)

    page.get_by_role("link", name="New offering").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New offering")
    assert_accessible(page)
    page.get_by_label("Term").select_option("spring")
    page.get_by_label("Year").fill("2031")
    page.get_by_label("Location (in person)").fill("200 Genesee St, Rochester, NY")
    page.get_by_label("NYS State Board for Social Work: provider number").fill("SW-57")
    page.get_by_label("NYS State Board for Social Work: approval statement").fill(
        "Approved provider #SW-0057."
    )
    page.get_by_label(re.compile("Indira Instructor")).check()
    page.get_by_role("button", name="Create offering").click()
    expect(page.get_by_text("provider numbers look like SW-0057")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("NYS State Board for Social Work: provider number").fill("SW-0057")
    page.get_by_role("button", name="Create offering").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Generate the meetings")
    assert_accessible(page)
    page.get_by_label("First date").fill("2031-02-01")
    page.get_by_label("Weekday").select_option(label="Tuesday")
    page.get_by_label("Start time").fill("12:00")
    page.get_by_role("button", name="Generate the meetings").click()
    expect(page.get_by_text("11 meetings scheduled")).to_be_visible()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(11)
    expect(rows.first).to_contain_text("Tue Feb 4, 2031 · 12:00 PM EST")
    assert_accessible(page)
    offering_url = page.url

    page.get_by_role("link", name="Edit session 3").click()
    assert_accessible(page)
    page.get_by_label("Start time").fill("13:00")
    page.get_by_label("End time").fill("14:30")
    page.get_by_role("button", name="Save meeting").click()
    expect(page.get_by_text("Session 3 saved.")).to_be_visible()

    page.get_by_role("link", name="Enrolments").click()
    assert_accessible(page)
    page.get_by_role("link", name="Import a roster (CSV)").click()
    assert_accessible(page)
    page.get_by_label("Roster file (CSV)").set_input_files(_csv_file("bad.csv", BAD_ROSTER))
    page.get_by_role("button", name="Check and import").click()
    expect(
        page.get_by_role("heading", name=re.compile("Nothing was imported: 3 problems found"))
    ).to_be_visible()
    problems = page.locator("ul.problems li").all_inner_texts()
    assert problems[0].startswith("Line 2: New York license numbers are exactly 6 digits")
    assert any(p.startswith("Line 3: “not-an-email” is not a valid email address.") for p in problems)
    assert any(p.startswith("Line 3: Funding “free” is not one we know: use Full fee,") for p in problems)
    assert_accessible(page)

    page.get_by_label("Roster file (CSV)").set_input_files(_csv_file("good.csv", GOOD_ROSTER))
    page.get_by_role("button", name="Check and import").click()
    expect(page.get_by_text("3 learners enrolled (3 new accounts)")).to_be_visible()
    links = page.locator(".invite-link").all_inner_texts()
    assert len(links) == 3 and all("/account/set-password/" in link for link in links)
    assert_accessible(page)

    page.goto(offering_url)
    page.get_by_role("link", name="Completion audit").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Completion audit")
    expect(page.locator("table.matrix tbody tr")).to_have_count(3)
    expect(page.locator("svg#attendance-chart")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Sessions").click()
    expect(page.locator("th[aria-sort='ascending']")).to_contain_text("Sessions")
    page.get_by_label("License type").select_option("LCSW")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.matrix tbody tr")).to_have_count(1)
    expect(page.locator("table.matrix tbody tr").first).to_contain_text("Zoë Ñuñez")
    assert_accessible(page)
    page.get_by_role("link", name="Zoë Ñuñez").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Zoë Ñuñez")
    assert_accessible(page)


def test_matrix_fills_and_exports_open_cleanly(page, live_server, demo):
    """As attendance and work come in the matrix fills; the CE roster downloads as clean CSV and XLSX."""
    base = live_server.url
    sign_in(page, base, "coordinator@example.org", TEST_PASSWORD)
    matrix = f"{base}/staff/offerings/{demo.offering_id}/matrix"
    page.goto(matrix)
    expect(page.locator("table.matrix")).not_to_contain_text("P 90")
    give_records(demo.offering_id, demo.lcsw_id, attended=3)
    page.goto(matrix)
    lena = page.locator("table.matrix tbody tr", has_text="Lena M. Social-Worker")
    expect(lena.get_by_text("P 90", exact=False).first).to_be_visible()
    expect(lena).to_contain_text("4.50")  # 3 sessions × 90 minutes
    assert_accessible(page)
    lena.get_by_role("link", name=re.compile(r"P 90 minutes, session 1")).click()
    expect(page).to_have_url(re.compile(r"/meetings/\d+/attendance#learner-\d+$"))

    page.goto(f"{base}/staff/offerings/{demo.offering_id}/exports")
    assert_accessible(page)
    with page.expect_download() as info:
        page.get_by_role("link", name="CSV CE roster", exact=True).click()
    raw = Path(info.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][1] == "Learner" and any(
        r[1] == "Lena M. Social-Worker" and r[6] == "4.50" for r in rows[1:]
    )
    with page.expect_download() as info:
        page.get_by_role("link", name="Excel CE roster", exact=True).click()
    with zipfile.ZipFile(info.value.path()) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "Lena M. Social-Worker" in sheet and "<f>" not in sheet


def test_other_coordinator_pages_pass_axe_and_csrf(page, live_server, demo):
    """Enrolment, funding, withdrawal, bulk issue, audit trail and erasure work with CSRF and pass axe."""
    base = live_server.url
    offering = f"{base}/staff/offerings/{demo.offering_id}"
    give_records(demo.offering_id, demo.lcsw_id)
    sign_in(page, base, "coordinator@example.org", TEST_PASSWORD)

    page.goto(f"{offering}/enrol")
    page.get_by_label("Full name").fill("Dana Doula")
    page.get_by_label("Email").fill("dana@example.org")
    page.get_by_label("License type").select_option("LCSW")
    page.get_by_label("License number").fill("123")
    page.get_by_role("button", name="Enrol").click()
    expect(page.get_by_text("exactly 6 digits")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("License number").fill("123456")
    page.get_by_role("button", name="Enrol").click()
    expect(page.get_by_text("Dana Doula is enrolled.")).to_be_visible()
    assert_accessible(page)

    page.goto(f"{offering}/enrolments")
    page.get_by_label("Funding of Marco Counselor").select_option("waived")
    page.get_by_role("button", name="Change the funding of Marco Counselor").click()
    expect(page.get_by_text("Funding of Marco Counselor changed.")).to_be_visible()
    page.get_by_role("link", name="Withdraw Nia Nurse").click()
    assert_accessible(page)
    page.get_by_label("Reason").fill("Changed jobs")
    page.get_by_role("button", name="Withdraw the enrolment").click()
    expect(page.get_by_text("Nia Nurse's enrolment withdrawn.")).to_be_visible()
    assert_accessible(page)

    page.goto(f"{offering}/certificates/bulk")
    assert_accessible(page)
    page.get_by_role("button", name="Issue 1 certificate").click()
    expect(page.locator("progress#bulk-progress")).to_have_attribute("value", "3")  # 3 enrolled examined
    assert_accessible(page)

    page.goto(f"{base}/staff/audit?offering={demo.offering_id}")
    expect(page.locator("table.audit-events")).to_contain_text("certificate.issue")
    assert_accessible(page)

    page.goto(f"{offering}/learners/{demo.nurse_id}/erase")
    assert_accessible(page)
    page.get_by_label("Reason").fill("Learner's request by email")
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Erase the learner's profile").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Erased learner {demo.nurse_id}")
    assert_accessible(page)
