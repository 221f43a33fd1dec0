"""The Open Badges 3.0 ``OpenBadgeCredential`` of one certificate version, from its frozen facts.

Pure: :class:`CertificateFacts` (the snapshot the PDF prints) plus the issuer, identity and status
in, a JSON-ready dict out, so the credential and the PDF cannot say different things.

* issuer: the provider (name, URL) with its board approval numbers as ``otherIdentifier``;
* achievement: the course; ``creditsAvailable`` and the CE result only on a CE certificate (the
  CE hours for the licence and board certified); a certificate of completion states its
  face-to-face clock hours as not CE and carries no credits at all;
* result and evidence: dates, format, face-to-face hours, independent hours labelled not CE;
* the learner: the name as on the certificate; the email only as a salted SHA-256 ``identityHash``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..documents.certificate import INDEPENDENT_NOTE, TITLES, CertificateFacts
from ..rules.completion import CertificateKind

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
MEDIA_TYPE = "application/vc+jwt"

CE_RESULT = "#ce-contact-hours"
F2F_RESULT = "#face-to-face-hours"
INDEPENDENT_RESULT = "#independent-hours"


@dataclass(frozen=True)
class Issuer:
    """The provider as it signs: ``approvals`` are (board, provider number) pairs."""

    id: str
    name: str
    url: str
    approvals: tuple[tuple[str, str], ...] = ()

    def profile(self) -> dict[str, Any]:
        profile: dict[str, Any] = {"id": self.id, "type": ["Profile"], "name": self.name, "url": self.url}
        if self.approvals:
            profile["otherIdentifier"] = [
                {
                    "type": "IdentifierEntry",
                    "identifier": number,
                    "identifierType": "ext:BoardApprovalNumber",
                    "name": board,
                }
                for board, number in self.approvals
            ]
        return profile


def identity_hash(email: str, salt: str) -> str:
    """OB 3.0 IdentityHash of an email: ``sha256$`` + hex(sha256(normalised email + salt))."""
    normalised = email.strip().casefold()
    return "sha256$" + hashlib.sha256((normalised + salt).encode("utf-8")).hexdigest()


def _result_description(id_: str, name: str) -> dict[str, Any]:
    return {"id": id_, "type": ["ResultDescription"], "name": name, "resultType": "ext:ClockHours"}


def _result(id_: str, value: str) -> dict[str, Any]:
    return {"type": ["Result"], "resultDescription": id_, "value": value}


def ce_label(facts: CertificateFacts) -> str:
    return (
        f"CE contact hours for {facts.license_type}, {facts.board_name}, provider No. {facts.provider_number}"
    )


def build_badge_credential(
    facts: CertificateFacts,
    *,
    credential_id: str,
    achievement_id: str,
    issuer: Issuer,
    email_hash: str,
    salt: str,
    status: dict[str, Any],
    valid_from: str,
) -> dict[str, Any]:
    """The unsigned credential (the JWT payload) for ``facts``."""
    ce = facts.kind is CertificateKind.CE
    title = TITLES[facts.kind]
    dates = f"{facts.first_meeting.isoformat()} to {facts.last_meeting.isoformat()}"
    f2f_name = "Face-to-face clock hours attended" if ce else "Face-to-face clock hours (not CE credit)"
    independent_name = f"Independent learning hours (readings, exercises, quizzes) — {INDEPENDENT_NOTE}"
    descriptions = [
        _result_description(F2F_RESULT, f2f_name),
        _result_description(INDEPENDENT_RESULT, independent_name),
    ]
    results = [
        _result(F2F_RESULT, facts.face_to_face_hours),
        _result(INDEPENDENT_RESULT, facts.independent_hours),
    ]
    if ce:
        descriptions.insert(0, _result_description(CE_RESULT, ce_label(facts)))
        results.insert(0, _result(CE_RESULT, facts.ce_hours or ""))
    hours = (
        f"{facts.ce_hours} CE contact hours ({ce_label(facts)})"
        if ce
        else f"{facts.face_to_face_hours} face-to-face clock hours (not CE credit)"
    )
    achievement: dict[str, Any] = {
        "id": achievement_id,
        "type": ["Achievement"],
        "achievementType": "Course",
        "name": facts.course_title,
        "description": f"{facts.course_title}: {title}, {facts.offering_label} offering.",
        "criteria": {
            "narrative": (
                "Attended the face-to-face sessions and completed the course requirements "
                f"({facts.offering_label}, {dates}, {facts.delivery_format})."
            )
        },
        "resultDescription": descriptions,
    }
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "name": facts.learner_name,
        "identifier": [
            {
                "type": "IdentityObject",
                "identityType": "name",
                "hashed": False,
                "identityHash": facts.learner_name,
            },
            {
                "type": "IdentityObject",
                "identityType": "emailAddress",
                "hashed": True,
                "identityHash": email_hash,
                "salt": salt,
            },
        ],
        "achievement": achievement,
        "activityStartDate": f"{facts.first_meeting.isoformat()}T00:00:00Z",
        "activityEndDate": f"{facts.last_meeting.isoformat()}T23:59:59Z",
        "term": facts.offering_label,
        "result": results,
    }
    if ce:
        credits = float(Decimal(facts.ce_hours or "0"))
        achievement["creditsAvailable"] = credits
        subject["creditsEarned"] = credits
        subject["licenseNumber"] = facts.license_number
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"{title} — {facts.course_title}",
        "description": f"{title} issued to {facts.learner_name} by {facts.provider_name}.",
        "issuer": issuer.profile(),
        "validFrom": valid_from,
        "credentialSubject": subject,
        "evidence": [
            {
                "id": facts.verification_url,
                "type": ["Evidence"],
                "name": f"{title} {facts.certificate_id}, version {facts.version}",
                "description": (
                    f"{facts.offering_label}, {dates}, {facts.delivery_format}. {hours}. "
                    f"{facts.independent_hours} independent learning hours, {INDEPENDENT_NOTE}. "
                    f"Issued {facts.issue_date.isoformat()} by {facts.coordinator_name}, Course Coordinator."
                ),
                "genre": "Certificate",
            }
        ],
        "credentialStatus": status,
        # the certificate this credential carries, for /verify and the board's auditor
        "imhCertificate": {
            "certificateId": facts.certificate_id,
            "version": facts.version,
            "kind": facts.kind.value,
            "issueDate": facts.issue_date.isoformat(),
            "firstMeeting": facts.first_meeting.isoformat(),
            "lastMeeting": facts.last_meeting.isoformat(),
            "deliveryFormat": facts.delivery_format,
            "faceToFaceHours": facts.face_to_face_hours,
            "faceToFaceHoursAreCe": ce,
            "ceHours": facts.ce_hours,
            "licenseType": facts.license_type if ce else None,
            "board": facts.board_name if ce else None,
            "providerNumber": facts.provider_number if ce else None,
            "approvalStatement": facts.approval_statement if ce else None,
            "independentHours": facts.independent_hours,
            "independentHoursNote": INDEPENDENT_NOTE,
            "coordinatorName": facts.coordinator_name,
            "verificationUrl": facts.verification_url,
        },
    }
