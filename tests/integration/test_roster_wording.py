"""Roster import in a coordinator's words: no internal codes, the accepted values listed, counts agree.

The import page used to say "use one of full_fee, grant_funded, …" and "use one of LMSW, …, Other,
None"; those are the database's values. The messages now use the forms' labels (FUNDING_LABELS)
and say how to write "no license".
"""

from __future__ import annotations

import re

from sqlalchemy import select

from imh_course.extensions import db
from imh_course.models import Enrolment, Funding, User
from imh_course.operations.roster_csv import parse_roster
from tests.integration.test_roster_import import HEADER, csv_bytes, upload

CODES = ("full_fee", "grant_funded", "group_rate")


def _problems_of(html: str) -> str:
    match = re.search(r'<ul class="problems">(.*?)</ul>', html, re.S)
    assert match, html
    return match.group(1)


def test_unknown_funding_and_license_list_the_accepted_values_in_words(client, demo, login):
    login("coordinator@example.org")
    raw = csv_bytes(HEADER, "Bad Funding,bf@example.org,,,,free", "Bad License,bl@example.org,,LCSSW,,")
    response = upload(client, demo.offering_id, raw)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    problems = _problems_of(html)
    assert "Full fee, Grant-funded, Scholarship, Group rate or Waived" in problems
    assert "LMSW, LCSW, LMHC, LCAT, LMFT, LP, RN or Other, or leave it empty for no license" in problems
    for code in (*CODES, "None"):
        assert code not in problems
    for code in CODES:  # nor in the page's own help
        assert code not in html


def test_the_import_page_explains_the_columns_in_words(client, demo, login):
    login("coordinator@example.org")
    html = client.get(f"/staff/offerings/{demo.offering_id}/roster").get_data(as_text=True)
    assert "Funding: Full fee, Grant-funded, Scholarship, Group rate or Waived, or leave it empty" in html
    assert "Other, None" not in html
    for code in CODES:
        assert code not in html


def test_the_funding_labels_and_no_license_import(client, demo, login):
    """What the page lists is what the importer accepts: labels, codes, and "none" / "No license"."""
    login("coordinator@example.org")
    raw = csv_bytes(
        HEADER,
        "Gia,gia@example.org,,No license,,Group rate",
        "Hal,hal@example.org,,none,,grant_funded",
        "Ivo,ivo@example.org,,,,Full fee",
    )
    assert upload(client, demo.offering_id, raw).status_code == 200
    rows = dict(
        db.session.execute(
            select(User.email, Enrolment.funding).join(Enrolment, Enrolment.user_id == User.id)
        ).all()
    )
    assert rows["gia@example.org"] is Funding.GROUP_RATE
    assert rows["hal@example.org"] is Funding.GRANT_FUNDED
    assert rows["ivo@example.org"] is Funding.FULL_FEE
    gia = db.session.scalar(select(User).where(User.email == "gia@example.org"))
    assert gia.profile.license_type is None


def test_a_license_number_message_speaks_of_the_learner():
    """The coordinator is not the licensee: "Enter the learner's …", never "Enter your …"."""
    _lines, problems = parse_roster(f"{HEADER}\nA,a@example.org,,LCSW,,\n".encode())
    assert [str(p) for p in problems] == ["Line 2: Enter the learner's 6-digit New York LCSW license number."]


def test_problem_counts_agree_with_one_and_two(client, demo, login):
    login("coordinator@example.org")
    one = upload(client, demo.offering_id, csv_bytes(HEADER, "A,not-an-email,,,,")).get_data(as_text=True)
    assert "Nothing was imported: 1 problem found" in one
    two = upload(client, demo.offering_id, csv_bytes(HEADER, "A,bad,,,,", "B,worse,,,,")).get_data(
        as_text=True
    )
    assert "Nothing was imported: 2 problems found" in two


def test_header_messages_agree_with_the_number_of_columns():
    _l, one = parse_roster(b"name,email,discipline,license number,funding\nA,a@b.org,,,\n")
    assert [str(p) for p in one] == ["Line 1: The header has no license type column."]
    _l, two = parse_roster(b"name,email,discipline,funding\nA,a@b.org,,\n")
    assert [str(p) for p in two] == ["Line 1: The header has no license type and license number columns."]
    _l, twice = parse_roster(f"{HEADER},email\nA,a@b.org,,,,,a@b.org\n".encode())
    assert "Line 1: The email column appears twice." in [str(p) for p in twice]
    _l, controls = parse_roster(f"{HEADER}\nA\x01,a@b.org,Social\x02 work,,,\n".encode())
    assert [str(p) for p in controls] == [
        "Line 2: The name and discipline columns contain a control character (such as a NUL byte); "
        "remove it and upload again."
    ]


def test_a_broken_csv_line_is_explained_without_pythons_wording():
    _l, problems = parse_roster(f'{HEADER}\n"A"x,a@b.org,,,,\n'.encode())
    assert len(problems) == 1
    text = str(problems[0])
    assert "quotation marks" in text and "expected" not in text


def test_a_learner_who_chose_none_reads_no_license_on_the_staff_pages(client, demo, login):
    """The profile's "None" choice is shown in words on the enrolments, matrix and drill-down pages."""
    from imh_course.models import LearnerProfile

    profile = db.session.scalar(select(LearnerProfile).where(LearnerProfile.user_id == demo.lcsw_id))
    profile.license_type = "None"
    db.session.commit()
    login("coordinator@example.org")
    pages = [
        f"/staff/offerings/{demo.offering_id}/enrolments",
        f"/staff/offerings/{demo.offering_id}/matrix",
        f"/staff/offerings/{demo.offering_id}/learners/{demo.lcsw_id}",
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        html = response.get_data(as_text=True)
        assert "No license" in html, page
        assert not re.search(r">\s*None\s*<|· None ·", html), page
