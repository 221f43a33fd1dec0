"""Registrations, resource links and account links, changed by an admin: each change audited.

Operations flush and audit; the admin views commit (house rule). Refusals are
:class:`PlatformError` with a message for the form.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..database import begin_write, locked, serialize_writers
from ..extensions import db
from ..models.audit_chain import Actor, record_event
from ..models.curriculum import CourseSession
from ..models.lti import LtiDeployment, LtiPlatform, LtiResourceLink, LtiUserLink
from ..models.offerings import Offering
from ..operations.accounts import find_user
from ..security.roles import Role


class PlatformError(ValueError):
    """A clear reason a change was refused (nothing was written)."""


@dataclass(frozen=True)
class PlatformData:
    name: str
    issuer: str
    client_id: str
    deployment_ids: list[str]
    auth_url: str
    token_url: str
    jwks_url: str | None
    jwks_json: str | None
    frame_origins: list[str]
    is_enabled: bool = True


def _snapshot(platform: LtiPlatform) -> dict[str, object]:
    return {
        "name": platform.name,
        "issuer": platform.issuer,
        "client_id": platform.client_id,
        "deployment_ids": platform.deployment_ids,
        "auth_url": platform.auth_url,
        "token_url": platform.token_url,
        "jwks_url": platform.jwks_url,
        "jwks_pasted": bool(platform.jwks_json),
        "frame_origins": platform.frame_origins,
        "is_enabled": platform.is_enabled,
    }


def _apply(platform: LtiPlatform, data: PlatformData) -> None:
    clash = db.session.scalar(
        select(LtiPlatform.id).where(
            LtiPlatform.issuer == data.issuer,
            LtiPlatform.client_id == data.client_id,
            LtiPlatform.id != platform.id,
        )
    )
    if clash is not None:
        raise PlatformError("A platform with this issuer and client ID is already registered.")
    if not data.deployment_ids:
        raise PlatformError("Give at least one deployment ID.")
    platform.name = data.name
    platform.issuer = data.issuer
    platform.client_id = data.client_id
    platform.auth_url = data.auth_url
    platform.token_url = data.token_url
    platform.jwks_url = data.jwks_url or None
    platform.jwks_json = data.jwks_json or None
    platform.frame_origins = " ".join(data.frame_origins)
    platform.is_enabled = data.is_enabled
    wanted = list(dict.fromkeys(data.deployment_ids))
    platform.deployments = [d for d in platform.deployments if d.deployment_id in wanted] + [
        LtiDeployment(deployment_id=d) for d in wanted if d not in platform.deployment_ids
    ]


def create_platform(actor: Actor, data: PlatformData) -> LtiPlatform:
    begin_write()
    serialize_writers("imh:lti-platforms")
    platform = LtiPlatform()
    _apply(platform, data)
    db.session.add(platform)
    db.session.flush()
    record_event(actor, "lti.platform_create", "lti_platform", platform.id, after=_snapshot(platform))
    return platform


def update_platform(actor: Actor, platform_id: int, data: PlatformData) -> bool:
    """False if nothing changed."""
    begin_write()
    serialize_writers("imh:lti-platforms")
    platform = db.session.scalar(locked(select(LtiPlatform).where(LtiPlatform.id == platform_id)))
    if platform is None:
        raise PlatformError("That platform no longer exists.")
    before = _snapshot(platform)
    before_keys = platform.jwks_json
    _apply(platform, data)
    db.session.flush()
    after = _snapshot(platform)
    if before == after and before_keys == platform.jwks_json:
        return False
    record_event(actor, "lti.platform_update", "lti_platform", platform.id, before=before, after=after)
    return True


def connect_resource_link(
    actor: Actor, link: LtiResourceLink, offering: Offering, number: int | None
) -> None:
    """Point an LMS link at an offering (and optionally one of its sessions)."""
    begin_write()
    session_id = None
    if number:
        session_id = db.session.scalar(
            select(CourseSession.id).where(
                CourseSession.course_id == offering.course_id, CourseSession.number == number
            )
        )
        if session_id is None:
            raise PlatformError(f"The offering has no session {number}.")
    before = {"offering_id": link.offering_id, "session_id": link.session_id}
    link.offering_id = offering.id
    link.session_id = session_id
    db.session.flush()
    record_event(
        actor, "lti.resource_link_connect", "lti_resource_link", link.id, offering_id=offering.id,
        before=before, after={"offering_id": offering.id, "session_id": session_id},
    )  # fmt: skip


def relink_user(actor: Actor, link: LtiUserLink, email: str) -> None:
    """The LMS identity now signs in as the account with ``email`` (two LMSs, one person)."""
    begin_write()
    target = find_user(email)
    if target is None:
        raise PlatformError(f"There is no account for {email}.")
    if target.role_set & {Role.ADMIN, Role.COORDINATOR}:
        raise PlatformError("Accounts with coordinator or admin rights cannot be signed in from an LMS.")
    if target.id == link.user_id:
        raise PlatformError("The LMS identity is already linked to that account.")
    before = {"user_id": link.user_id}
    link.user_id = target.id
    db.session.flush()
    record_event(
        actor, "lti.user_relink", "lti_user_link", link.id, learner_id=target.id,
        before=before, after={"user_id": target.id, "issuer": link.issuer, "sub": link.sub},
    )  # fmt: skip
