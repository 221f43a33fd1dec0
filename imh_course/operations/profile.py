"""Updating a learner's profile; license changes after a certificate are flagged for coordinators."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models.accounts import LearnerProfile, User
from ..models.audit_chain import Actor, record_event
from ..models.certificates import Certificate, CertificateStatus
from .accounts import ProfileData

LICENSE_FIELDS = ("license_type", "license_number", "license_state")
FIELDS = ("certificate_name", "discipline", *LICENSE_FIELDS)

__all__ = ["ProfileData", "set_meeting_reminders", "update_profile"]


def update_profile(actor: Actor, user: User, data: ProfileData) -> bool:
    """Apply ``data``; returns False when nothing changed. Every change is an audit event.

    A change to license data after a certificate was issued is recorded as
    ``profile.license_change_after_certificate`` so the coordinator's audit view shows it.
    """
    profile = user.profile or LearnerProfile(user_id=user.id, certificate_name=data.certificate_name)
    before = {name: getattr(profile, name) for name in FIELDS} if user.profile else {}
    after = {name: getattr(data, name) for name in FIELDS}
    if before == after:
        return False
    for name, value in after.items():
        setattr(profile, name, value)
    if user.profile is None:
        db.session.add(profile)
    license_changed = any(before.get(n) != after[n] for n in LICENSE_FIELDS)
    certified = db.session.scalar(
        select(Certificate.id).where(
            Certificate.user_id == user.id, Certificate.status == CertificateStatus.VALID
        )
    )
    action = "profile.license_change_after_certificate" if license_changed and certified else "profile.update"
    db.session.flush()
    record_event(actor, action, "learner_profile", user.id, before=before, after=after, learner_id=user.id)
    return True


def set_meeting_reminders(actor: Actor, user: User, wanted: bool) -> bool:
    """Turn the day-before meeting reminders on or off; False when unchanged, else an audit event.

    Its own event (not part of ``profile.update``), so a change of preference never reads as a
    change of the name or license printed on certificates.
    """
    if user.meeting_reminders == wanted:
        return False
    before = {"meeting_reminders": user.meeting_reminders}
    user.meeting_reminders = wanted
    db.session.flush()
    record_event(
        actor,
        "profile.meeting_reminders",
        "user",
        user.id,
        before=before,
        after={"meeting_reminders": wanted},
        learner_id=user.id,
    )
    return True
