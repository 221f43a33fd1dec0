"""The OpenBadgeCredential built from certificate facts: CE credits only where CE is certified."""

from __future__ import annotations

import hashlib
import json
from datetime import date

from imh_course.credentials.badge import OB_CONTEXT, VC_CONTEXT, Issuer, build_badge_credential, identity_hash
from imh_course.documents.certificate import CertificateFacts
from imh_course.rules.completion import CertificateKind

COMMON = dict(
    certificate_id="abc",
    version=1,
    learner_name="Lena Moreau",
    provider_name="SPCC",
    course_title="Infant Mental Health: Theory to Practice",
    offering_label="Spring 2026",
    first_meeting=date(2026, 3, 2),
    last_meeting=date(2026, 5, 11),
    delivery_format="In person",
    face_to_face_hours="15.00",
    independent_hours="6.25",
    issue_date=date(2026, 5, 20),
    coordinator_name="Cora Coordinator",
    verification_url="https://x.test/verify/abc",
)
CE = CertificateFacts(
    kind=CertificateKind.CE,
    license_type="LCSW",
    license_number="012345",
    board_name="NYS State Board for Social Work",
    provider_number="SW-0057",
    approval_statement="Approved by the board.",
    ce_hours="14.75",
    **COMMON,
)
COMPLETION = CertificateFacts(
    kind=CertificateKind.COMPLETION,
    license_type=None,
    license_number=None,
    board_name=None,
    provider_number=None,
    approval_statement=None,
    ce_hours=None,
    **COMMON,
)


def build(facts: CertificateFacts) -> dict:
    return build_badge_credential(
        facts,
        credential_id="urn:uuid:0",
        achievement_id="https://x.test/#a",
        issuer=Issuer(
            "https://x.test/", "SPCC", "https://spcc.test", (("NYS State Board for Social Work", "SW-0057"),)
        ),
        email_hash=identity_hash("Lena@Example.org", "salt"),
        salt="salt",
        status={"type": "BitstringStatusListEntry"},
        valid_from="2026-05-20T14:00:00Z",
    )


def test_a_ce_credential_carries_the_certified_ce_hours_for_its_license_and_board():
    vc = build(CE)
    assert vc["@context"] == [VC_CONTEXT, OB_CONTEXT]
    assert vc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    achievement = vc["credentialSubject"]["achievement"]
    assert achievement["creditsAvailable"] == 14.75 and vc["credentialSubject"]["creditsEarned"] == 14.75
    ce = next(d for d in achievement["resultDescription"] if d["id"] == "#ce-contact-hours")
    assert "LCSW" in ce["name"] and "Social Work" in ce["name"] and "SW-0057" in ce["name"]
    values = {r["resultDescription"]: r["value"] for r in vc["credentialSubject"]["result"]}
    assert values == {
        "#ce-contact-hours": "14.75",
        "#face-to-face-hours": "15.00",
        "#independent-hours": "6.25",
    }
    assert vc["issuer"]["otherIdentifier"][0]["identifier"] == "SW-0057"


def test_a_completion_credential_states_clock_hours_and_carries_no_ce_credits():
    vc = build(COMPLETION)
    subject = vc["credentialSubject"]
    assert "creditsAvailable" not in subject["achievement"] and "creditsEarned" not in subject
    assert "licenseNumber" not in subject
    names = {d["id"]: d["name"] for d in subject["achievement"]["resultDescription"]}
    assert set(names) == {"#face-to-face-hours", "#independent-hours"}
    assert "not CE" in names["#face-to-face-hours"] and "not eligible for CE" in names["#independent-hours"]
    assert vc["imhCertificate"]["ceHours"] is None and vc["imhCertificate"]["faceToFaceHoursAreCe"] is False
    assert "CE contact hours" not in json.dumps(vc)


def test_the_independent_hours_are_labelled_not_ce_on_every_certificate():
    for facts in (CE, COMPLETION):
        vc = build(facts)
        assert "6.25 independent learning hours, not eligible for CE" in vc["evidence"][0]["description"]


def test_the_email_appears_only_as_a_salted_hash():
    vc = build(CE)
    text = json.dumps(vc).casefold()
    assert "lena@example.org" not in text
    (hashed,) = [i for i in vc["credentialSubject"]["identifier"] if i["identityType"] == "emailAddress"]
    assert hashed["hashed"] is True
    assert hashed["identityHash"] == "sha256$" + hashlib.sha256(b"lena@example.orgsalt").hexdigest()


def test_every_printed_fact_comes_from_the_snapshot():
    vc = build(CE)
    assert vc["credentialSubject"]["name"] == CE.learner_name
    assert vc["credentialSubject"]["activityStartDate"].startswith("2026-03-02")
    assert vc["evidence"][0]["id"] == CE.verification_url
    assert vc["imhCertificate"]["faceToFaceHours"] == CE.face_to_face_hours
