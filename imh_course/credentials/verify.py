"""Checking a pasted or uploaded credential: what it states, its status, or why it is invalid.

Order of checks, each with its own plain-language reason: the text is a compact JWS with JSON
header and payload (else *malformed*); its algorithm is ES256 and its ``kid`` names one of this
provider's keys, active or retired (else *unknown key*); the signature holds (else *tampered*
when the payload differs from the credential this site issued under that id, or *bad signature*);
the payload is an OpenBadgeCredential of this site (else *malformed*); then the status, read from
the same source as the status list: *revoked* or *superseded* when the certificate no longer
stands. Any unexpected structure is reported as malformed, never raised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from ..extensions import db
from ..models.certificates import CertificateStatus
from ..models.credentials import BadgeCredential
from . import jose, keys
from .badge import OB_CONTEXT, VC_CONTEXT

MALFORMED = "malformed"
UNKNOWN_KEY = "unknown_key"
BAD_SIGNATURE = "bad_signature"
TAMPERED = "tampered"
UNKNOWN_CREDENTIAL = "unknown_credential"
REVOKED = "revoked"
SUPERSEDED = "superseded"
VALID = "valid"

#: what this site's ids look like; anything else is never looked up (a NUL would upset PostgreSQL)
_CREDENTIAL_ID = re.compile(r"urn:uuid:[0-9a-f-]{36}")
_THUMBPRINT = re.compile(r"[A-Za-z0-9_-]{43}")

_FACT_FIELDS = (
    "certificateId", "version", "kind", "issueDate", "firstMeeting", "lastMeeting", "deliveryFormat",
    "faceToFaceHours", "faceToFaceHoursAreCe", "ceHours", "licenseType", "board", "providerNumber",
    "independentHours", "coordinatorName",
)  # fmt: skip


@dataclass(frozen=True)
class Verdict:
    """The outcome: ``status`` is one of the constants above; ``message`` says it in words."""

    status: str
    message: str
    facts: dict[str, Any] = field(default_factory=dict)
    retired_key: bool = False

    @property
    def valid(self) -> bool:
        return self.status == VALID


def _facts(payload: dict[str, Any]) -> dict[str, Any]:
    """What the credential states, for display (raises on a structure this site never issues)."""
    cert = payload["imhCertificate"]
    subject = payload["credentialSubject"]
    achievement = subject["achievement"]
    facts = {name: cert.get(name) for name in _FACT_FIELDS}
    facts.update(
        learner_name=str(subject["name"]),
        course_title=str(achievement["name"]),
        issuer_name=str(payload["issuer"]["name"]),
        credits=achievement.get("creditsAvailable"),
        credential_id=str(payload["id"]),
        name=str(payload.get("name", "")),
    )
    return facts


def _is_badge(payload: dict[str, Any]) -> bool:
    context = payload.get("@context")
    types = payload.get("type")
    return (
        isinstance(context, list)
        and context[:1] == [VC_CONTEXT]
        and OB_CONTEXT in context
        and isinstance(types, list)
        and "OpenBadgeCredential" in types
        and isinstance(payload.get("id"), str)
    )


def verify_credential(text: str) -> Verdict:
    try:
        return _verify(text.strip())
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError):
        return Verdict(MALFORMED, "This is not a credential issued by this site: its contents are malformed.")


def _verify(token: str) -> Verdict:
    if len(token) > jose.MAX_TOKEN_CHARS:
        return Verdict(MALFORMED, "This is too long to be a credential from this site.")
    if token.startswith("{"):
        return Verdict(
            MALFORMED,
            "This is JSON, not a signed credential: paste the whole downloaded file (it starts with “eyJ”).",
        )
    try:
        header, payload = jose.split(token)
    except jose.JoseFormatError as exc:
        return Verdict(MALFORMED, f"This is not a signed credential (malformed): {exc}.")
    if header.get("alg") not in jose.ALGORITHMS:
        return Verdict(BAD_SIGNATURE, "Its signature algorithm is not the one this site signs with (ES256).")
    thumbprint = jose.kid_thumbprint(header.get("kid"))
    key_row = keys.key_by_kid(thumbprint) if _THUMBPRINT.fullmatch(thumbprint) else None
    if key_row is None:
        return Verdict(UNKNOWN_KEY, "It was not signed with any of this provider's keys (unknown key).")
    stored = None
    if isinstance(payload.get("id"), str) and _CREDENTIAL_ID.fullmatch(payload["id"]):
        stored = db.session.scalar(
            select(BadgeCredential).where(BadgeCredential.credential_id == payload["id"])
        )
    if not jose.signature_valid(token, keys.public_key(key_row)):
        if stored is not None and stored.token.split(".")[1] != token.split(".")[1]:
            return Verdict(
                TAMPERED,
                "It has been changed since it was signed (tampered): its contents differ from the "
                "credential this site issued, so the signature no longer matches.",
            )
        return Verdict(BAD_SIGNATURE, "The signature does not match the contents (bad signature).")
    if not _is_badge(payload):
        return Verdict(MALFORMED, "The signature is ours, but this is not an Open Badges credential.")
    facts = _facts(payload)
    retired = key_row.retired_dt is not None
    if stored is None:
        return Verdict(UNKNOWN_CREDENTIAL, "This site has no record of this credential.", facts, retired)
    status = stored.certificate.status
    if status is CertificateStatus.REVOKED:
        return Verdict(
            REVOKED, "The certificate was revoked: this credential is no longer valid.", facts, retired
        )
    if status is CertificateStatus.SUPERSEDED:
        return Verdict(
            SUPERSEDED,
            "The certificate was reissued (superseded): this credential was replaced by a newer one "
            "and is no longer valid.",
            facts,
            retired,
        )
    return Verdict(VALID, "Valid: the signature holds and the certificate stands.", facts, retired)
