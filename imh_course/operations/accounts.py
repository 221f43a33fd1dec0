"""Creating and updating accounts."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from sqlalchemy import select

from ..extensions import db
from ..models.accounts import LearnerProfile, TokenPurpose, User, UserRole
from ..models.audit_chain import Actor, record_event
from ..security.auth import hash_password
from ..security.roles import Role

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
#: the email's name part is refused inside a password only from this length on ("al" is not a risk)
MIN_EMAIL_PART = 3


class AccountError(ValueError):
    """A clear, user-facing reason an account change was refused."""


@dataclass(frozen=True)
class ProfileData:
    certificate_name: str
    discipline: str | None = None
    license_type: str | None = None
    license_number: str | None = None
    license_state: str | None = "NY"


def password_problem(password: str, email: str | None = None) -> str | None:
    """Why ``password`` is refused, or None (ASVS 2.1.1, 2.1.7; no composition rules, 2.1.9).

    At least 12 characters, not on the common-password list (case-insensitive), and not built
    from the account's email address (its name part, when that has 3 or more characters).
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters."
    if is_common_password(password):
        return (
            "That password is on a list of common passwords that attackers try first. "
            "Please choose another; a short sentence is easy to remember and hard to guess."
        )
    lowered = password.lower()
    if email and any(part in lowered for part in _email_parts(email)):
        return "Please do not use your email address, or the part before the @, in your password."
    return None


def _email_parts(email: str) -> set[str]:
    local = email.strip().lower().rpartition("@")[0] or email.strip().lower()
    compact = "".join(ch for ch in local if ch.isalnum())
    return {part for part in (local, compact) if len(part) >= MIN_EMAIL_PART}


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list (``imh_course/data/common_passwords.txt``), lower-case."""
    text = resources.files("imh_course").joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def is_common_password(password: str) -> bool:
    return password.strip().lower() in common_passwords()


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
        problem = password_problem(password, email)
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


@dataclass(frozen=True)
class LinkDelivery:
    """What became of an invitation or reset link: ``shown_link`` is for the admin to pass on."""

    shown_link: str | None


def deliver_account_link(user: User, kind: TokenPurpose, link: str, valid_for: str) -> LinkDelivery:
    """Hand an invitation or password-reset ``link`` to ``user``: the one place links leave the app.

    The message is queued in the outbox in the caller's transaction (call this before committing:
    a rollback sends nothing). The link also comes back for the admin who asked, to pass on by hand
    when mail cannot reach the person (a full mailbox, a typo in the address being fixed).
    """
    from ..mail import notify  # the outbox builds on accounts: import here, not at module load

    if kind is TokenPurpose.INVITE:
        notify.queue_invitation(user, "", link=link, valid_for=valid_for)
    else:
        notify.queue_password_reset(user, "", valid_for, link=link)
    return LinkDelivery(shown_link=link)
