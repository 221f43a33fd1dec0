"""People: accounts, their roles and the learner profile printed on certificates."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..security.roles import Permission, Role, permissions_for
from .types import UTCDateTime, enum_column, utcnow


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    __tablename__ = "imh_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: sign-in name, stored lower-case
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    #: display name (the certificate name lives on the learner profile)
    full_name: Mapped[str] = mapped_column(String(200), nullable=False)
    #: argon2 hash; NULL until an invited user sets a password
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    #: part of the login cookie; rotating it signs out every copy of the cookie
    session_token: Mapped[str] = mapped_column(String(64), nullable=False, default=new_session_token)
    #: a deactivated account cannot sign in; accounts are never hard-deleted
    is_enabled: Mapped[bool] = mapped_column(nullable=False, default=True)
    #: when the account was created (UTC)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: set when the learner's erasure request pseudonymised the profile (CE records are kept)
    erased_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: the last successful sign-in (UTC); NULL for someone who never signed in
    last_signin_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: the day-before meeting reminders (with the .ics); the learner can turn them off in the profile
    meeting_reminders: Mapped[bool] = mapped_column(nullable=False, default=True, server_default=true())

    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    profile: Mapped[LearnerProfile | None] = relationship(
        back_populates="user", cascade="all, delete-orphan", uselist=False
    )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.is_enabled

    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(r.role for r in self.roles)

    def has_role(self, role: Role) -> bool:
        return role in self.role_set

    def can(self, permission: Permission) -> bool:
        return permission in permissions_for(self.role_set)

    def rotate_session_token(self) -> None:
        self.session_token = new_session_token()


class UserRole(db.Model):
    __tablename__ = "imh_user_role"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the person holding the role
    user_id: Mapped[int] = mapped_column(ForeignKey("imh_user.id"), nullable=False, index=True)
    #: one of learner, instructor, coordinator, admin
    role: Mapped[Role] = mapped_column(enum_column(Role), nullable=False)

    user: Mapped[User] = relationship(back_populates="roles")

    def __repr__(self) -> str:
        return f"<UserRole {self.user_id} {self.role}>"


class LearnerProfile(db.Model):
    __tablename__ = "imh_learner_profile"

    #: one profile per user
    user_id: Mapped[int] = mapped_column(ForeignKey("imh_user.id"), primary_key=True)
    #: the name exactly as it must appear on certificates
    certificate_name: Mapped[str] = mapped_column(String(200), nullable=False)
    #: profession, e.g. "Social work", "Nursing", "Early childhood education"
    discipline: Mapped[str | None] = mapped_column(String(120), nullable=True)
    #: LMSW, LCSW, LMHC, LCAT, LMFT, LP, RN, Other, None (see rules.licenses.LICENSE_TYPES)
    license_type: Mapped[str | None] = mapped_column(String(20), nullable=True)
    #: as issued by the state; validated for form, never guessed
    license_number: Mapped[str | None] = mapped_column(String(40), nullable=True)
    #: two-letter state of the license
    license_state: Mapped[str | None] = mapped_column(String(2), nullable=True)
    #: last change (UTC)
    updated_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(back_populates="profile")

    def __repr__(self) -> str:
        return f"<LearnerProfile {self.user_id} {self.license_type}>"


class TokenPurpose(StrEnum):
    INVITE = "invite"  # a new learner sets their first password
    RESET = "reset"  # a forgotten password


class AccountToken(db.Model):
    """A single-use, expiring link token; only its hash is stored."""

    __tablename__ = "imh_account_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("imh_user.id"), nullable=False, index=True)
    #: invite or reset
    purpose: Mapped[TokenPurpose] = mapped_column(enum_column(TokenPurpose), nullable=False)
    #: sha256 of the secret sent in the link (the secret itself is never stored)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: after this moment the link no longer works
    expires_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: set when the link is used; a used link never works again
    used_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<AccountToken {self.user_id} {self.purpose}>"
