"""Queue each kind of email from the event that causes it (same transaction, never committed here).

Links are absolute: IMH_BASE_URL when set (recommended: a link built from the request's Host
header could point anywhere), else the current request's address.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, url_for

from ..documents.certificate import CertificateFacts
from ..models.accounts import User
from ..models.certificates import Certificate
from ..models.offerings import Offering
from ..models.outbox import OutboxMessage
from . import messages
from .outbox import enqueue


def external_url(endpoint: str, **values: Any) -> str:
    base = (current_app.config.get("IMH_BASE_URL") or "").rstrip("/")
    if base or not has_request_context():
        with current_app.test_request_context("/", base_url=base or None):
            return url_for(endpoint, _external=True, **values)
    return url_for(endpoint, _external=True, **values)


def _site(offering: Offering | None = None) -> messages.Site:
    config = current_app.config
    course = offering.course.title if offering is not None else "the Infant Mental Health course"
    return messages.Site(
        sender=config["IMH_MAIL_SENDER"], provider=config["IMH_PROVIDER_NAME"], course=course
    )


def queue_password_reset(
    user: User, raw_token: str, valid_for: str = "1 hour", *, link: str | None = None
) -> OutboxMessage:
    link = link or external_url("imh.set_password", token=raw_token)
    message = messages.password_reset(
        _site(), name=user.full_name, address=user.email, link=link, valid_for=valid_for
    )
    return enqueue(message, "password_reset", user.id)


def queue_invitation(
    user: User,
    raw_token: str,
    offering: Offering | None = None,
    *,
    link: str | None = None,
    valid_for: str = "14 days",
) -> OutboxMessage:
    link = link or external_url("imh.set_password", token=raw_token)
    message = messages.invitation(
        _site(offering),
        name=user.full_name,
        address=user.email,
        link=link,
        offering=offering.label if offering is not None else None,
        valid_for=valid_for,
    )
    return enqueue(message, "invitation", user.id)


def queue_certificate_issued(user: User, offering: Offering, certificate: Certificate) -> OutboxMessage:
    facts = CertificateFacts.from_dict(certificate.facts)
    message = messages.certificate_issued(
        _site(offering),
        name=user.full_name,
        address=user.email,
        offering=offering.label,
        download=external_url("imh.download_certificate", public_id=certificate.public_id),
        verify=external_url("imh.verify_certificate", public_id=certificate.public_id),
        ce_hours=facts.ce_hours,
        face_to_face_hours=facts.face_to_face_hours,
    )
    return enqueue(message, "certificate_issued", user.id)
