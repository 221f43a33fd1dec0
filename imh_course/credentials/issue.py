"""Making the stored credential of a certificate version, and the status list from the certificates.

A credential is made the first time its learner downloads it (certificates issued before this
feature get one too) and then served as stored: the same bytes every time. Its status bit is not
stored anywhere: the status list sets the bit of every credential whose certificate is no longer
valid (superseded by a reissue, or revoked), so revocation and reissue need no extra step and the
list cannot disagree with ``/verify``. Writes flush and audit; the view commits.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..database import begin_write
from ..documents.certificate import CertificateFacts
from ..extensions import db
from ..mail.notify import external_url
from ..models.accounts import User
from ..models.audit_chain import Actor, record_event
from ..models.certificates import Certificate, CertificateStatus
from ..models.credentials import STATUS_LIST_SIZE, BadgeCredential
from ..models.offerings import Offering
from ..models.types import utcnow
from ..rules.licenses import BOARD_LABELS
from . import jose, keys
from .badge import Issuer, build_badge_credential, identity_hash
from .status_list import status_entry, status_list_credential

_INDEX_ATTEMPTS = 8


class CredentialUnavailable(RuntimeError):
    """No signing key has been created yet (``flask imh credentials keys create``)."""


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def jwks_url() -> str:
    return external_url("imh.credential_jwks")


def kid_prefix() -> str:
    return jwks_url() + "#"


def status_list_url() -> str:
    return external_url("imh.credential_status_list")


def issuer(offering: Offering | None = None, facts: CertificateFacts | None = None) -> Issuer:
    """The provider; with its board approval numbers (the offering's, and the one certified)."""
    course_url = external_url("imh.course_page")
    approvals: list[tuple[str, str]] = []
    if facts is not None and facts.board_name and facts.provider_number:
        approvals.append((facts.board_name, facts.provider_number))
    for approval in offering.approvals if offering is not None else ():
        pair = (BOARD_LABELS[approval.board], approval.provider_number)
        if pair not in approvals:
            approvals.append(pair)
    return Issuer(
        id=course_url,
        name=current_app.config["IMH_PROVIDER_NAME"],
        url=current_app.config.get("IMH_PROVIDER_URL") or course_url,
        approvals=tuple(approvals),
    )


def stored_credential(certificate: Certificate) -> BadgeCredential | None:
    return db.session.scalar(select(BadgeCredential).where(BadgeCredential.certificate_id == certificate.id))


def _free_index() -> int:
    """A random unused index (the position of a credential in the list tells nothing)."""
    for _ in range(_INDEX_ATTEMPTS):
        index = secrets.randbelow(STATUS_LIST_SIZE)
        if db.session.scalar(select(BadgeCredential.id).where(BadgeCredential.status_index == index)) is None:
            return index
    used = set(db.session.scalars(select(BadgeCredential.status_index)))
    free = [i for i in range(STATUS_LIST_SIZE) if i not in used]
    if not free:
        raise CredentialUnavailable("The status list is full.")
    return secrets.choice(free)


def _payload(certificate: Certificate, credential_id: str, index: int) -> dict[str, Any]:
    facts = CertificateFacts.from_dict(certificate.facts)
    learner = db.session.get(User, certificate.user_id)
    offering = db.session.get(Offering, certificate.offering_id)
    salt = secrets.token_hex(16)
    return build_badge_credential(
        facts,
        credential_id=credential_id,
        achievement_id=f"{external_url('imh.course_page')}#offering-{offering.id}-{facts.kind.value}",
        issuer=issuer(offering, facts),
        email_hash=identity_hash(learner.email, salt),
        salt=salt,
        status=status_entry(status_list_url(), index),
        valid_from=iso(certificate.issued_dt),
    )


def credential_for(actor: Actor, certificate: Certificate) -> BadgeCredential:
    """The certificate's credential, made and signed now if it has none (safe to race)."""
    existing = stored_credential(certificate)
    if existing is not None:
        return existing
    if certificate.status is not CertificateStatus.VALID:
        raise CredentialUnavailable("Only a valid certificate can be downloaded as a credential.")
    begin_write()
    key_row = keys.active_key()
    if key_row is None:
        raise CredentialUnavailable("Credentials are not set up yet (no signing key).")
    signing_key = keys.private_key(key_row)
    for _ in range(_INDEX_ATTEMPTS):
        credential_id = f"urn:uuid:{uuid.uuid4()}"
        index = _free_index()
        row = BadgeCredential(
            certificate_id=certificate.id,
            credential_id=credential_id,
            status_index=index,
            signing_key_id=key_row.id,
            token=jose.sign(
                _payload(certificate, credential_id, index), signing_key, kid_prefix() + key_row.kid
            ),
            issued_dt=utcnow(),
        )
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:
            existing = stored_credential(certificate)
            if existing is not None:  # another request made it first: theirs stands
                return existing
            continue  # the random index was taken meanwhile: draw again
        record_event(
            actor,
            "certificate.credential",
            "certificate",
            certificate.id,
            offering_id=certificate.offering_id,
            learner_id=certificate.user_id,
            after={"credential_id": credential_id, "status_index": index, "kid": key_row.kid},
        )
        return row
    raise CredentialUnavailable("The credential could not be made just now; please try again.")


def revoked_indices() -> list[int]:
    """Status indices of credentials whose certificate is superseded or revoked."""
    return list(
        db.session.scalars(
            select(BadgeCredential.status_index)
            .join(Certificate, Certificate.id == BadgeCredential.certificate_id)
            .where(Certificate.status != CertificateStatus.VALID)
        )
    )


def status_list_token() -> str:
    """The signed status list credential, as of now (raises :class:`CredentialUnavailable`)."""
    key_row = keys.active_key()
    if key_row is None:
        raise CredentialUnavailable("Credentials are not set up yet (no signing key).")
    payload = status_list_credential(status_list_url(), issuer().profile(), revoked_indices(), iso(utcnow()))
    return jose.sign(payload, keys.private_key(key_row), kid_prefix() + key_row.kid)
