"""Stale certificates (issue 13): a valid certificate whose records changed since issue is flagged to
staff, with the audited changes, until a coordinator reissues; the learner and /verify keep what was
certified. Refusals shown to a coordinator are written for the coordinator."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from imh_course.extensions import db
from imh_course.models import AuditEvent, Certificate, CertificateStatus, LearnerProfile, Offering, User
from imh_course.models.audit_chain import Actor
from imh_course.operations.attendance import mark
from imh_course.operations.offerings import update_meeting
from imh_course.operations.profile import ProfileData, update_profile
from imh_course.operations.stale_certificates import stale_certificates
from imh_course.records.certificate_facts import certificate_name
from imh_course.rules.credit import AttendanceStatus
from imh_course.security.roles import Role
from tests.integration.certificate_helpers import (
    attend,
    attest,
    ce_minutes,
    evaluate,
    finish_independent_work,
    meetings_of,
)
from tests.integration.test_certificates import coordinator_actor, issue_as_coordinator

REASON = "Arrived 30 minutes late: confirmed with the sign-in sheet"


def page(client, url: str) -> str:  # noqa: ANN001
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def valid_certificate(user_id: int) -> Certificate:
    return db.session.scalar(
        select(Certificate).where(
            Certificate.user_id == user_id, Certificate.status == CertificateStatus.VALID
        )
    )


@pytest.fixture
def issued(app, client, login, demo) -> Certificate:
    """The LCSW: 10 meetings attended, work done, evaluated, attested; CE certificate issued."""
    attend(demo.offering_id, demo.lcsw_id, 10)
    finish_independent_work(demo.offering_id, demo.lcsw_id)
    login("lcsw@example.org")
    assert evaluate(client, demo.offering_id).status_code == 302
    assert attest(client, app, demo.offering_id, demo.lcsw_id).status_code == 302
    client.post("/logout")
    assert issue_as_coordinator(client, login, demo, demo.lcsw_id).status_code == 302
    client.post("/logout")
    return valid_certificate(demo.lcsw_id)


def correct_first_meeting(demo) -> None:  # noqa: ANN001
    """The coordinator corrects the first meeting: 30 minutes late (a new audit event). Commits."""
    meeting = meetings_of(demo.offering_id)[0]
    learner = db.session.get(User, demo.lcsw_id)
    mark(
        coordinator_actor(),
        meeting,
        learner,
        AttendanceStatus.LATE,
        meeting.start_dt + timedelta(minutes=30),
        meeting.end_dt,
        REASON,
        now=meeting.end_dt + timedelta(hours=1),
    )
    db.session.commit()


def hours_now(app, demo) -> str:  # noqa: ANN001
    minutes = ce_minutes(app, demo.offering_id, demo.lcsw_id)
    return f"{minutes * 100 // 60 / 100:.2f}"


def test_a_valid_certificate_matching_the_records_is_not_flagged(client, login, demo, issued):
    offering = db.session.get(Offering, demo.offering_id)
    assert stale_certificates(offering) == {}
    login("coordinator@example.org")
    listing = page(client, f"/staff/offerings/{demo.offering_id}/certificates/needs-reissue")
    assert "nothing needs reissuing" in listing
    assert "reissue needed" not in page(client, f"/staff/offerings/{demo.offering_id}/certificates")


def test_a_correction_behind_a_valid_certificate_is_flagged_on_every_staff_surface(
    app, client, login, demo, issued
):
    """Certificate page, needs-reissue list, matrix, drill-down and CE roster say what was certified,
    what the records say now, and which audited change did it."""
    certified = issued.facts["ce_hours"]
    correct_first_meeting(demo)
    now = hours_now(app, demo)
    assert now != certified
    flag = f"Certified {certified} CE hours; records now {now} — reissue needed"
    login("coordinator@example.org")
    base = f"/staff/offerings/{demo.offering_id}"
    for url in (
        f"{base}/certificates",
        f"{base}/certificates/needs-reissue",
        f"{base}/learners/{demo.lcsw_id}",
    ):
        text = page(client, url)
        assert flag in text, url
        assert f"CE contact hours: {certified} → {now}" in text, url
        assert "Attendance corrected, session 1: present → late" in text and REASON in text, url
    matrix = page(client, f"{base}/matrix")
    assert "reissue needed" in matrix and "Attendance corrected, session 1" in matrix
    for export in ("ce-roster.csv", "completion-matrix.csv"):
        data = client.get(f"{base}/exports/{export}").get_data(as_text=True).lstrip("\ufeff")
        (line,) = [r for r in csv.DictReader(io.StringIO(data)) if r["Email"] == "lcsw@example.org"]
        assert (
            line["Certificate status"]
            == f"valid — certified {certified} CE hours; records now {now} — reissue needed"
        ), export


def test_the_learner_and_verify_keep_what_was_certified(app, client, login, demo, issued):
    certified = issued.facts["ce_hours"]
    correct_first_meeting(demo)
    login("lcsw@example.org")
    learner_page = page(client, f"/learn/offerings/{demo.offering_id}/certificates")
    assert "reissue" not in learner_page.lower()
    client.post("/logout")
    verify = page(client, f"/verify/{issued.public_id}")
    assert certified in verify and hours_now(app, demo) not in verify
    assert "reissue" not in verify.lower()


def test_a_refused_reissue_tells_the_coordinator_in_staff_words(app, client, login, demo, issued):
    """Defect 4: the learner has not re-attested; the coordinator reads that about the learner, not
    "Your recorded attendance changed after you attested"."""
    correct_first_meeting(demo)
    name = certificate_name(db.session.get(User, demo.lcsw_id))
    login("coordinator@example.org")
    response = client.post(
        f"/staff/offerings/{demo.offering_id}/certificates/{issued.public_id}/reissue",
        data={"reason": "Attendance corrected", "back": "needs_reissue"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/certificates/needs-reissue#stale-{demo.lcsw_id}")
    shown = page(client, response.headers["Location"])
    assert f"{name} has not re-attested since their attendance changed" in shown
    assert "Your recorded attendance changed" not in shown and "attest again" not in shown
    assert valid_certificate(demo.lcsw_id).public_id == issued.public_id


def test_reissue_from_the_list_clears_the_flag_and_is_audited(app, client, login, demo, issued):
    correct_first_meeting(demo)
    login("lcsw@example.org")
    assert attest(client, app, demo.offering_id, demo.lcsw_id).status_code == 302  # re-attests
    client.post("/logout")
    login("coordinator@example.org")
    listing = page(client, f"/staff/offerings/{demo.offering_id}/certificates/needs-reissue")
    assert f'id="stale-{demo.lcsw_id}"' in listing and 'name="back" value="needs_reissue"' in listing
    response = client.post(
        f"/staff/offerings/{demo.offering_id}/certificates/{issued.public_id}/reissue",
        data={"reason": "Attendance corrected", "back": "needs_reissue"},
    )
    assert response.status_code == 302
    after = page(client, response.headers["Location"])
    assert "nothing needs reissuing" in after
    new = valid_certificate(demo.lcsw_id)
    assert new.version == 2 and new.facts["ce_hours"] == hours_now(app, demo)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "certificate.reissue"))
    assert event.reason == "Attendance corrected" and event.learner_id == demo.lcsw_id
    assert "reissue needed" not in page(client, f"/staff/offerings/{demo.offering_id}/certificates")


def test_a_retimed_meeting_and_a_license_change_are_listed_as_changes(app, demo, issued):
    """Offering-level changes (a meeting re-timed) and the learner's own (a new license number)."""
    meeting = meetings_of(demo.offering_id)[1]
    update_meeting(
        coordinator_actor(),
        meeting,
        meeting.start_dt,
        meeting.end_dt - timedelta(minutes=30),
        True,
        "Ended early",
    )
    learner = db.session.get(User, demo.lcsw_id)
    profile = learner.profile
    update_profile(
        Actor(user=learner, role="learner"),
        learner,
        ProfileData(
            certificate_name=profile.certificate_name,
            discipline=profile.discipline,
            license_type=profile.license_type,
            license_number="099999",
            license_state=profile.license_state,
        ),
    )
    db.session.commit()
    offering = db.session.get(Offering, demo.offering_id)
    (item,) = stale_certificates(offering).values()
    fields = {d.field for d in item.staleness.differences}
    assert {"ce_hours", "license_number"} <= fields, fields
    texts = [c.text for c in item.changes]
    assert texts[0].startswith("Meeting changed, session 2:") and item.changes[0].reason == "Ended early"
    assert "→" in texts[0], texts
    assert texts[1].startswith("License changed after the certificate: license number"), texts
    assert "→ 099999" in texts[1]


def test_an_approval_removed_behind_a_certificate_is_listed_in_board_names(app, demo, issued):
    """Issue 13: the offering loses its social-work approval after the LCSW's CE certificate was
    issued. The certificate is flagged (it certifies CE the offering can no longer give), and the
    change reads in board names, not as a stored value."""
    from imh_course.models.offerings import DeliveryFormat, Term
    from imh_course.operations.offerings import ApprovalData, OfferingData, update_offering
    from imh_course.rules.licenses import Board

    offering = db.session.get(Offering, demo.offering_id)
    kept = tuple(
        ApprovalData(a.board, a.provider_number, a.statement)
        for a in offering.approvals
        if a.board is not Board.SOCIAL_WORK
    )
    removed = next(a for a in offering.approvals if a.board is Board.SOCIAL_WORK)
    assert update_offering(
        coordinator_actor(),
        offering,
        OfferingData(
            term=Term(offering.term),
            year=offering.year,
            format=DeliveryFormat(offering.format),
            timezone=offering.timezone,
            location=offering.location,
            meeting_url=offering.meeting_url,
            approvals=kept,
            instructor_ids=tuple(i.user_id for i in offering.instructors),
        ),
    )
    db.session.commit()
    (item,) = stale_certificates(db.session.get(Offering, demo.offering_id)).values()
    assert item.user_id == demo.lcsw_id
    [text] = [c.text for c in item.changes if "approvals" in c.text]
    assert f"NYS State Board for Social Work ({removed.provider_number})" in text.split("→")[0]
    assert "Social Work" not in text.split("→")[1]
    assert "{" not in text and "social_work" not in text


def test_the_reissue_list_is_for_coordinators_and_admins(client, login, demo, make_user):
    url = f"/staff/offerings/{demo.offering_id}/certificates/needs-reissue"
    make_user(Role.ADMIN, email="admin-stale@example.org")
    login("admin-stale@example.org")
    assert client.get(url).status_code == 200  # reads it (holds the audit trail), cannot reissue
    client.post("/logout")
    login("instructor@example.org")
    assert client.get(url).status_code == 403


def test_cli_lists_stale_certificates_and_exits_1(app, runner, demo, issued):
    args = ["imh", "certificates", "stale", "--offering", str(demo.offering_id)]
    clean = runner.invoke(args=args)
    assert clean.exit_code == 0, clean.output
    assert "No certificate needs reissue (1 offering checked)." in clean.output
    correct_first_meeting(demo)
    result = runner.invoke(args=args)
    assert result.exit_code == 1, result.output
    name = certificate_name(db.session.get(User, demo.lcsw_id))
    line = next(line for line in result.output.splitlines() if line.startswith(name))
    certified = issued.facts["ce_hours"]
    assert (
        f"{issued.public_id} v1: certified {certified} CE hours; records now {hours_now(app, demo)}" in line
    )
    assert "Attendance corrected, session 1" in line
    assert "1 certificate needs reissue (1 offering checked)." in result.output
    everywhere = runner.invoke(args=["imh", "certificates", "stale"])
    assert everywhere.exit_code == 1 and name in everywhere.output
    missing = runner.invoke(args=["imh", "certificates", "stale", "--offering", "999999"])
    assert missing.exit_code != 0 and "No offering with id 999999" in missing.output


def test_missing_license_number_is_told_to_staff_about_the_learner(app, client, login, demo):
    db.session.get(LearnerProfile, demo.lcsw_id).license_number = None
    db.session.commit()
    attend(demo.offering_id, demo.lcsw_id, 10)
    finish_independent_work(demo.offering_id, demo.lcsw_id)
    login("lcsw@example.org")
    evaluate(client, demo.offering_id)
    attest(client, app, demo.offering_id, demo.lcsw_id)
    learner_page = page(client, f"/learn/offerings/{demo.offering_id}/certificates")
    assert "Add your license number to your profile" in learner_page
    client.post("/logout")
    name = certificate_name(db.session.get(User, demo.lcsw_id))
    response = issue_as_coordinator(client, login, demo, demo.lcsw_id)
    staff = page(client, response.headers["Location"])
    assert f"No license number on file for {name}" in staff
    assert "Add your license number" not in staff
    drilldown = page(client, f"/staff/offerings/{demo.offering_id}/learners/{demo.lcsw_id}")
    assert f"No license number on file for {name}" in drilldown and "Add your license number" not in drilldown
