"""LTI 1.3: registered platforms (LMSs), the tool's own signing keys, and what launches leave behind.

A platform is one registration of this tool in one LMS (issuer + client id). People launched from
it are linked by the LTI identity the spec defines, (issuer, sub); a link is never made by email,
so two platforms stay two people until an admin links them. Used nonces are kept so a captured
id_token cannot be replayed; resource links remember which offering (and session) they open.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .curriculum import CourseSession
from .offerings import Offering
from .types import UTCDateTime, enum_column, utcnow


class LtiPlatform(db.Model):
    __tablename__ = "imh_lti_platform"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: a name for people ("Agency Moodle")
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    #: the ``iss`` of its id_tokens (Moodle: the site URL; Canvas cloud: https://canvas.instructure.com)
    issuer: Mapped[str] = mapped_column(String(300), nullable=False)
    #: the client id the LMS gave this tool (the ``aud`` of its id_tokens)
    client_id: Mapped[str] = mapped_column(String(300), nullable=False)
    #: where the OIDC login redirects to (the platform's authorization endpoint)
    auth_url: Mapped[str] = mapped_column(String(500), nullable=False)
    #: OAuth2 token endpoint (for grade passback and roster services)
    token_url: Mapped[str] = mapped_column(String(500), nullable=False)
    #: the platform's public key set URL; empty when a key set is pasted instead
    jwks_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    #: a pasted JSON Web Key Set (used instead of ``jwks_url``)
    jwks_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: web origins allowed to frame the tool (space separated), e.g. https://school.instructure.com
    frame_origins: Mapped[str] = mapped_column(String(1000), nullable=False, default="")
    #: a disabled platform cannot launch
    is_enabled: Mapped[bool] = mapped_column(nullable=False, default=True)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    deployments: Mapped[list[LtiDeployment]] = relationship(
        back_populates="platform", cascade="all, delete-orphan", order_by="LtiDeployment.id", lazy="selectin"
    )

    @property
    def deployment_ids(self) -> list[str]:
        return [d.deployment_id for d in self.deployments]

    def __repr__(self) -> str:
        return f"<LtiPlatform {self.id} {self.issuer} {self.client_id}>"


class LtiDeployment(db.Model):
    __tablename__ = "imh_lti_deployment"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("imh_lti_platform.id"), nullable=False, index=True)
    #: the ``deployment_id`` claim a launch must carry
    deployment_id: Mapped[str] = mapped_column(String(255), nullable=False)

    platform: Mapped[LtiPlatform] = relationship(back_populates="deployments")


class LtiToolKey(db.Model):
    """One RSA key pair of the tool; the newest unretired key signs, every unretired key is published."""

    __tablename__ = "imh_lti_tool_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the JWK ``kid``
    kid: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    #: PKCS#8 PEM of the private key
    private_pem: Mapped[str] = mapped_column(Text, nullable=False)
    #: the public JWK (JSON) as published at the JWKS URL
    public_jwk: Mapped[str] = mapped_column(Text, nullable=False)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: set when the key was rotated out: no longer published, never used again
    retired_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LtiUserLink(db.Model):
    """(issuer, sub) → the person; made on the first launch or by an admin."""

    __tablename__ = "imh_lti_user_link"
    __table_args__ = (UniqueConstraint("issuer", "sub"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(300), nullable=False)
    #: the platform's stable user id (``sub`` claim)
    sub: Mapped[str] = mapped_column(String(255), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("imh_user.id"), nullable=False, index=True)
    #: the platform the first launch came from
    platform_id: Mapped[int] = mapped_column(ForeignKey("imh_lti_platform.id"), nullable=False)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: the latest launch through this link
    last_launch_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship()
    platform: Mapped[LtiPlatform] = relationship()


class LtiNonce(db.Model):
    """A nonce (or one-time ticket) already used: the unique key makes a replay fail in the database."""

    __tablename__ = "imh_lti_nonce"
    __table_args__ = (UniqueConstraint("issuer", "nonce"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(300), nullable=False)
    nonce: Mapped[str] = mapped_column(String(255), nullable=False)
    used_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class LtiResourceLink(db.Model):
    """A link placed in an LMS course; it opens one offering (and optionally one session)."""

    __tablename__ = "imh_lti_resource_link"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id", "resource_link_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("imh_lti_platform.id"), nullable=False, index=True)
    deployment_id: Mapped[str] = mapped_column(String(255), nullable=False)
    #: the ``resource_link.id`` claim
    resource_link_id: Mapped[str] = mapped_column(String(255), nullable=False)
    #: the LMS course (``context.id``) and its title, for people
    context_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    context_title: Mapped[str | None] = mapped_column(String(300), nullable=True)
    title: Mapped[str | None] = mapped_column(String(300), nullable=True)
    #: the offering it opens; NULL until an admin or a deep link connects it
    offering_id: Mapped[int | None] = mapped_column(ForeignKey("imh_offering.id"), nullable=True)
    #: the LMS course's Names and Role Provisioning URL, from the latest launch (roster sync)
    memberships_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    #: the LMS course's line items URL (Assignment and Grade Services), from the latest launch
    lineitems_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    #: when the roster was last synced from the LMS
    roster_synced_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: optionally one session of that offering
    session_id: Mapped[int | None] = mapped_column(ForeignKey("imh_course_session.id"), nullable=True)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    platform: Mapped[LtiPlatform] = relationship()
    offering: Mapped[Offering | None] = relationship()
    session: Mapped[CourseSession | None] = relationship()


class LtiLineItem(db.Model):
    """A gradebook column the tool made in the LMS course: one per session and one for the course."""

    __tablename__ = "imh_lti_line_item"
    __table_args__ = (UniqueConstraint("resource_link_id", "item_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_link_id: Mapped[int] = mapped_column(ForeignKey("imh_lti_resource_link.id"), nullable=False)
    #: ``session-N`` or ``course``
    item_key: Mapped[str] = mapped_column(String(40), nullable=False)
    #: the line item's URL at the platform
    url: Mapped[str] = mapped_column(String(500), nullable=False)


class ScoreStatus(StrEnum):
    QUEUED = "queued"  # the value changed: to be posted
    SENDING = "sending"  # claimed by one worker
    SENT = "sent"  # the platform accepted this value
    FAILED = "failed"  # given up (see last_error); a later change queues it again


class LtiScore(db.Model):
    """The durable grade-passback queue: the latest value of one column for one learner.

    One row per (link, learner, column): a change overwrites the value and queues it again, so the
    platform always ends with the latest value, however many changes happened while it was down.
    Scores are independent-work completion only: CE hours are never a score.
    """

    __tablename__ = "imh_lti_score"
    __table_args__ = (
        UniqueConstraint("resource_link_id", "user_id", "item_key"),
        Index("ix_imh_lti_score_due", "status", "next_attempt_dt"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_link_id: Mapped[int] = mapped_column(ForeignKey("imh_lti_resource_link.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("imh_user.id"), nullable=False, index=True)
    item_key: Mapped[str] = mapped_column(String(40), nullable=False)
    #: completed parts (1/0 for a session; sessions complete for the course)
    score_given: Mapped[int] = mapped_column(nullable=False)
    score_maximum: Mapped[int] = mapped_column(nullable=False)
    status: Mapped[ScoreStatus] = mapped_column(enum_column(ScoreStatus), nullable=False)
    attempts: Mapped[int] = mapped_column(nullable=False, default=0)
    next_attempt_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: the worker holding the claim, and since when (a claim older than the lease is taken over)
    claimed_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    claimed_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    updated_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    resource_link: Mapped[LtiResourceLink] = relationship()
    user: Mapped[User] = relationship()
