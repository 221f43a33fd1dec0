"""Creating and updating accounts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from ..auth import hash_password
from ..extensions import db
from ..models.accounts import LearnerProfile, User, UserRole
from ..roles import Role
from .audit import Actor, record_event

MIN_PASSWORD_LENGTH = 12


class AccountError(ValueError):
    """A clear, user-facing reason an account change was refused."""


@dataclass(frozen=True)
class ProfileData:
    certificate_name: str
    discipline: str | None = None
    license_type: str | None = None
    license_number: str | None = None
    license_state: str | None = "NY"


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > 1024:
        return "Use at most 1024 characters."
    return None


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(
    actor: Actor,
    *,
    email: str,
    full_name: str,
    roles: Iterable[Role],
    password: str | None = None,
    profile: ProfileData | None = None,
) -> User:
    """Create an account with its roles (and a learner profile); flushes, audits, never commits."""
    email = email.strip().lower()
    if not email or "@" not in email:
        raise AccountError("Enter a valid email address.")
    if find_user(email) is not None:
        raise AccountError(f"An account for {email} already exists.")
    roles = sorted(set(roles))
    if not roles:
        raise AccountError("Give the account at least one role.")
    if password is not None:
        problem = password_problem(password)
        if problem:
            raise AccountError(problem)
    user = User(
        email=email, full_name=full_name.strip(), password_hash=hash_password(password) if password else None
    )
    user.roles = [UserRole(role=role) for role in roles]
    if profile is not None or Role.LEARNER in roles:
        data = profile or ProfileData(certificate_name=full_name.strip())
        user.profile = LearnerProfile(
            certificate_name=data.certificate_name,
            discipline=data.discipline,
            license_type=data.license_type,
            license_number=data.license_number,
            license_state=data.license_state,
        )
    db.session.add(user)
    db.session.flush()
    record_event(
        actor,
        "account.create",
        "user",
        user.id,
        after={"email": email, "roles": [r.value for r in roles]},
        learner_id=user.id if Role.LEARNER in roles else None,
    )
    return user
