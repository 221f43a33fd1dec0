"""Enrolment: one by one or from a roster CSV (checked first, per-line reasons, no duplicates)."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from imh_course.extensions import db
from imh_course.models import AccountToken, AuditEvent, Enrolment, EnrolmentStatus, Funding, User
from imh_course.operations.roster_csv import parse_roster
from imh_course.security.roles import Role

HEADER = "name,email,discipline,license type,license number,funding"
GOOD_LINES = [
    "Zoë Ñuñez,zoe@example.org,Social work,LCSW,012345,grant-funded",
    "Sam Smith,SAM@example.org,Nursing,RN,,Scholarship",
    "Ana Early,ana@example.org,Early childhood education,,,",
]


def csv_bytes(*lines: str, bom: bool = True, encoding: str = "utf-8") -> bytes:
    text = "\r\n".join(lines) + "\r\n"
    return (("\ufeff" if bom else "") + text).encode(encoding)


def upload(client, offering_id: int, raw: bytes, name: str = "roster.csv"):  # noqa: ANN001, ANN201
    return client.post(
        f"/staff/offerings/{offering_id}/roster",
        data={"file": (io.BytesIO(raw), name)},
        content_type="multipart/form-data",
    )


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_excel_csv_with_bom_imports_and_shows_invitation_links(client, demo, login):
    """A valid roster saved by Excel (BOM, CRLF) enrols everyone and shows each new learner's link."""
    login("coordinator@example.org")
    response = upload(client, demo.offering_id, csv_bytes(HEADER, *GOOD_LINES))
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "3 learners enrolled (3 new accounts)" in html
    links = re.findall(r"http://localhost/account/set-password/[\w-]+", html)
    assert len(links) == 3
    zoe = db.session.scalar(select(User).where(User.email == "zoe@example.org"))
    assert zoe.full_name == "Zoë Ñuñez" and zoe.password_hash is None
    assert (zoe.profile.license_type, zoe.profile.license_number) == ("LCSW", "012345")
    sam = db.session.scalar(select(User).where(User.email == "sam@example.org"))
    assert sam.profile.license_type == "RN"
    funding = dict(
        db.session.execute(
            select(User.email, Enrolment.funding).join(Enrolment, Enrolment.user_id == User.id)
        ).all()
    )
    assert funding["zoe@example.org"] is Funding.GRANT_FUNDED
    assert funding["sam@example.org"] is Funding.SCHOLARSHIP
    assert funding["ana@example.org"] is Funding.FULL_FEE
    client.post("/logout")
    assert client.get(links[0].removeprefix("http://localhost")).status_code == 200  # the link works


def test_reimporting_the_same_file_duplicates_nothing(client, demo, login):
    """Importing the same roster twice leaves one account and one enrolment per learner."""
    login("coordinator@example.org")
    raw = csv_bytes(HEADER, *GOOD_LINES)
    upload(client, demo.offering_id, raw)
    users, enrolments, tokens = count(User), count(Enrolment), count(AccountToken)
    again = upload(client, demo.offering_id, raw)
    assert again.status_code == 200
    assert "0 learners enrolled (0 new accounts); 3 already enrolled" in again.get_data(as_text=True)
    assert (count(User), count(Enrolment), count(AccountToken)) == (users, enrolments, tokens)


BAD_CASES = [
    pytest.param(
        csv_bytes(
            HEADER,
            "René Ménard,rene@example.org,Social work,LCSW,012345,full fee",
            bom=False,
            encoding="latin-1",
        ),
        ["Line 2: The file is not UTF-8 text."],
        id="wrong-encoding",
    ),
    pytest.param(
        csv_bytes("name,email,discipline,license number,funding", "A,a@example.org,,,"),
        ["Line 1: The header has no license type column."],
        id="missing-header",
    ),
    pytest.param(
        csv_bytes(HEADER + ",notes", "A,a@example.org,,,,,hi"),
        ["Line 1: Unexpected column: notes. The columns are name, email,"],
        id="extra-column",
    ),
    pytest.param(
        csv_bytes(HEADER, "A,a@example.org,,,,,surplus"),
        ["Line 2: This line has 7 values but the header has 6 columns."],
        id="extra-values",
    ),
    pytest.param(
        csv_bytes(
            HEADER,
            "Good One,good@example.org,Social work,LCSW,012345,full fee",
            "Bad Email,not-an-email,,,,",
            "Bad Funding,bf@example.org,,,,free",
            "Bad License,bl@example.org,,LCSSW,012345,",
            "Bad Number,bn@example.org,,LMHC,12345,",
            "Dup,GOOD@example.org,,,,",
            ",noname@example.org,,,,",
        ),
        [
            "Line 3: “not-an-email” is not a valid email address.",
            "Line 4: Funding “free” is not one we know: use Full fee, Grant-funded, Scholarship, "
            "Group rate or Waived, or leave it empty for full fee.",
            "Line 5: License type “LCSSW” is not one we know: use LMSW, LCSW, LMHC, LCAT, LMFT, LP, "
            "RN or Other, or leave it empty for no license.",
            "Line 6: New York license numbers are exactly 6 digits",
            "Line 7: The email good@example.org appears again (first on line 2).",
            "Line 8: The name is missing.",
        ],
        id="bad-rows",
    ),
    pytest.param(b"", ["The file is empty: its first line must name the columns"], id="empty"),
    pytest.param(csv_bytes(HEADER), ["The file lists no learners."], id="header-only"),
]


@pytest.mark.parametrize(("raw", "reasons"), BAD_CASES)
def test_a_bad_roster_is_refused_with_every_reason_by_line(client, demo, login, raw, reasons):
    """A malformed roster imports nothing and lists each problem with its line number (400)."""
    login("coordinator@example.org")
    users, enrolments = count(User), count(Enrolment)
    response = upload(client, demo.offering_id, raw)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Nothing was imported" in html or "Choose a CSV file." in html
    for reason in reasons:
        assert reason in html
    assert (count(User), count(Enrolment)) == (users, enrolments)


def test_semicolon_separated_excel_file_imports(client, demo, login):
    """Excel in locales that separate with semicolons still imports."""
    login("coordinator@example.org")
    raw = csv_bytes(HEADER.replace(",", ";"), "Ana Early;ana@example.org;;;;waived")
    assert upload(client, demo.offering_id, raw).status_code == 200
    assert (
        db.session.scalar(select(Enrolment.funding).join(User).where(User.email == "ana@example.org"))
        is Funding.WAIVED
    )


def test_staff_email_in_a_roster_is_reported_and_existing_learners_keep_their_profile(client, demo, login):
    """A staff account's email is a per-line problem; an existing learner is enrolled without invitation."""
    login("coordinator@example.org")
    bad = csv_bytes(HEADER, "Indira,instructor@example.org,,,,")
    response = upload(client, demo.offering_id, bad)
    assert response.status_code == 400
    assert (
        "Line 2: instructor@example.org belongs to an account without the learner role"
        in response.get_data(as_text=True)
    )
    client.post(
        f"/staff/offerings/{demo.offering_id}/enrolments/{demo.nurse_id}/status", data={"reason": "x"}
    )
    ok = upload(
        client, demo.offering_id, csv_bytes(HEADER, "Someone Else,nurse@example.org,Medicine,LCSW,999999,")
    )
    assert ok.status_code == 200
    nurse = db.session.get(User, demo.nurse_id)
    assert nurse.profile.license_type == "RN"  # the learner's own profile is not overwritten
    assert "set-password" not in ok.get_data(as_text=True)


def test_parse_roster_accepts_any_column_order_and_spacing():
    """Header names are matched whatever their order, case, spacing or underscores."""
    lines, problems = parse_roster(
        b"Funding,EMAIL,License_Type,license  number,Name,Discipline\nwaived,a@b.org,lcsw,012345,A B,\n"
    )
    assert problems == []
    assert lines[0].data.license_type == "LCSW" and lines[0].data.funding is Funding.WAIVED
    assert lines[0].line == 2


def test_parse_roster_reports_the_starting_line_of_multiline_records():
    """A quoted value spanning lines does not shift the line numbers of later problems."""
    raw = (HEADER + '\n"Long\nName",a@b.org,,,,\nX,bad,,,,\n').encode()
    _lines, problems = parse_roster(raw)
    assert [str(p) for p in problems] == ["Line 4: “bad” is not a valid email address."]


def test_enrol_one_learner_shows_the_invitation_once(client, demo, login):
    """A new learner gets an account and an invitation link shown once; enrolling again changes nothing."""
    login("coordinator@example.org")
    form = {
        "name": "Dana Doula",
        "email": "dana@example.org",
        "discipline": "Doula",
        "license_type": "",
        "license_number": "",
        "funding": "group_rate",
    }
    url = f"/staff/offerings/{demo.offering_id}/enrol"
    html = client.post(url, data=form).get_data(as_text=True)
    assert "Dana Doula is enrolled." in html and "/account/set-password/" in html
    again = client.post(url, data=form).get_data(as_text=True)
    assert "already enrolled; nothing changed" in again and "/account/set-password/" not in again
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "enrolment.create").order_by(AuditEvent.id.desc())
    ).first()
    assert event.after == {"funding": "group_rate", "status": "active"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"license_type": "LCSW", "license_number": "12345"}, "exactly 6 digits"),
        ({"license_type": "", "license_number": "012345"}, "Choose the license type for this license"),
        ({"email": "nope"}, "Enter an email address like name@example.org."),
        ({"funding": "free"}, "Not a valid choice"),
        ({"email": "instructor@example.org"}, "without the learner role"),
    ],
)
def test_enrol_form_errors_are_400(client, demo, login, changes, message):
    """Bad enrolment input re-renders the form with the reason and enrols nobody."""
    login("coordinator@example.org")
    form = {
        "name": "X",
        "email": "x@example.org",
        "license_type": "",
        "license_number": "",
        "funding": "full_fee",
    }
    response = client.post(f"/staff/offerings/{demo.offering_id}/enrol", data={**form, **changes})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "x@example.org")) is None


def test_funding_change_and_withdrawal_are_audited_with_reason(client, demo, login):
    """Funding changes and withdrawals are audit events; a withdrawal needs a reason and can be undone."""
    login("coordinator@example.org")
    base = f"/staff/offerings/{demo.offering_id}/enrolments/{demo.lcsw_id}"
    assert client.post(base + "/funding", data={"funding": "waived"}).status_code == 302
    refused = client.post(base + "/status", data={"reason": ""})
    assert refused.status_code == 400 and "Enter a reason." in refused.get_data(as_text=True)
    assert client.post(base + "/status", data={"reason": "Moved out of state"}).status_code == 302
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == demo.lcsw_id))
    db.session.refresh(enrolment)
    assert enrolment.funding is Funding.WAIVED and enrolment.status is EnrolmentStatus.WITHDRAWN
    actions = db.session.execute(
        select(AuditEvent.action, AuditEvent.reason)
        .where(AuditEvent.learner_id == demo.lcsw_id)
        .order_by(AuditEvent.id)
    ).all()
    assert ("enrolment.funding", None) in actions and ("enrolment.withdraw", "Moved out of state") in actions
    assert client.post(base + "/status", data={"reason": "Came back"}).status_code == 302
    db.session.refresh(enrolment)
    assert enrolment.status is EnrolmentStatus.ACTIVE


def test_new_invitation_link_for_a_learner_without_password(client, demo, login):
    """A learner who never set a password can be sent a fresh link; one with a password cannot."""
    login("coordinator@example.org")
    upload(client, demo.offering_id, csv_bytes(HEADER, GOOD_LINES[0]))
    zoe = db.session.scalar(select(User).where(User.email == "zoe@example.org"))
    page = client.post(f"/staff/offerings/{demo.offering_id}/enrolments/{zoe.id}/invite")
    assert page.status_code == 200 and "/account/set-password/" in page.get_data(as_text=True)
    refused = client.post(f"/staff/offerings/{demo.offering_id}/enrolments/{demo.lcsw_id}/invite")
    assert refused.status_code == 302
    assert "has already set a password" in client.get(refused.headers["Location"]).get_data(as_text=True)


def test_instructors_cannot_enrol_or_import(client, demo, login):
    """Enrolment is a coordinator's job: instructors get 403."""
    login("instructor@example.org")
    assert client.get(f"/staff/offerings/{demo.offering_id}/enrol").status_code == 403
    assert upload(client, demo.offering_id, csv_bytes(HEADER, *GOOD_LINES)).status_code == 403
    assert client.get(f"/staff/offerings/{demo.offering_id}/enrolments").status_code == 403


def test_enrolments_page_lists_funding_status_and_account(client, demo, login, make_user):
    """The enrolments page shows each learner's funding and whether they set a password."""
    make_user(Role.LEARNER, email="spare@example.org")
    login("coordinator@example.org")
    upload(client, demo.offering_id, csv_bytes(HEADER, GOOD_LINES[1]))
    html = client.get(f"/staff/offerings/{demo.offering_id}/enrolments").get_data(as_text=True)
    assert "Grant-funded" in html and "password set" in html and "invited" in html
    assert "spare@example.org" not in html
