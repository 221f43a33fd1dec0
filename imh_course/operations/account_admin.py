"""What an admin does to accounts: create, edit, disable and re-enable, sign out everywhere,
send an invitation or reset link. Each change flushes and audits in the caller's transaction,
never commits.

Account changes take turns (``serialize_writers("imh:accounts")``, the topic enrolment uses to
create accounts), so the last-admin rule in ``rules.accounts`` holds even when two admins act at
once, and two requests cannot give two accounts the same email.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from ..database import begin_write, serialize_writers
from ..extensions import db
from ..models.accounts import LearnerProfile, TokenPurpose, User, UserRole
from ..models.audit_chain import Actor, record_event
from ..rules.accounts import AdminChange, admin_change_problem, self_disable_problem
from ..security.roles import Role
from .accounts import AccountError, create_user, find_user
from .tokens import INVITE_TTL, issue_token

#: a reset link an admin passes on by hand may take a while to arrive (the CLI's default too)
ADMIN_RESET_TTL = timedelta(hours=24)


def link_validity(kind: TokenPurpose) -> str:
    """How long an invitation or reset link sent from a staff page works, in words for the message."""
    if kind is TokenPurpose.INVITE:
        return f"{INVITE_TTL.days} days"
    return f"{ADMIN_RESET_TTL // timedelta(hours=1)} hours"


LOCK_TOPIC = "imh:accounts"


@dataclass(frozen=True)
class AccountData:
    full_name: str
    email: str
    roles: frozenset[Role]


def _start() -> None:
    begin_write()
    serialize_writers(LOCK_TOPIC)


def _learner_id(user: User) -> int | None:
    return user.id if user.has_role(Role.LEARNER) else None


def _invite(actor: Actor, user: User) -> str:
    """An invitation secret, audited like the coordinator's (``account.invite``)."""
    raw = issue_token(user, TokenPurpose.INVITE)
    record_event(
        actor, "account.invite", "user", user.id, learner_id=_learner_id(user), after={"purpose": "invite"}
    )
    return raw


def _refuse_erased(user: User) -> None:
    if user.erased_dt is not None:
        raise AccountError(
            "This account's profile was erased at the learner's request; it cannot be changed."
        )


def _other_enabled_admins(user: User) -> int:
    return db.session.scalar(
        select(func.count(func.distinct(User.id)))
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.ADMIN, User.is_enabled.is_(True), User.id != user.id)
    )


def _check_admin_rule(actor: Actor, user: User, *, admin_after: bool) -> None:
    problem = admin_change_problem(
        AdminChange(
            actor_id=actor.user.id if actor.user else None,
            target_id=user.id,
            is_admin_now=user.is_enabled and user.has_role(Role.ADMIN),
            is_admin_after=admin_after,
            other_enabled_admins=_other_enabled_admins(user),
        )
    )
    if problem:
        raise AccountError(problem)


def _snapshot(user: User) -> dict[str, object]:
    return {"full_name": user.full_name, "email": user.email, "roles": sorted(r.value for r in user.role_set)}


def create_account(actor: Actor, data: AccountData) -> tuple[User, str]:
    """A new account without a password, and its invitation secret (the person sets the password)."""
    _start()
    name = data.full_name.strip()
    if not name:
        raise AccountError("Enter the person's name.")
    user = create_user(actor, email=data.email, full_name=name, roles=data.roles)
    return user, _invite(actor, user)


def update_account(actor: Actor, user: User, data: AccountData) -> bool:
    """Change name, email and roles; False when nothing changed (then nothing is audited)."""
    _start()
    db.session.expire(user)  # re-read under the lock: another admin may just have changed it
    _refuse_erased(user)
    name, email = data.full_name.strip(), data.email.strip().lower()
    if not name:
        raise AccountError("Enter the person's name.")
    if not email or "@" not in email:
        raise AccountError("Enter a valid email address.")
    if not data.roles:
        raise AccountError("Give the account at least one role.")
    if email != user.email:
        holder = find_user(email)
        if holder is not None and holder.id != user.id:
            raise AccountError(f"An account for {email} already exists.")
    _check_admin_rule(actor, user, admin_after=Role.ADMIN in data.roles)
    before = _snapshot(user)
    user.full_name, user.email = name, email
    _set_roles(user, data.roles)
    after = _snapshot(user)
    if after == before:
        return False
    db.session.flush()
    changed = [key for key in before if before[key] != after[key]]
    record_event(
        actor,
        "account.update",
        "user",
        user.id,
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
        learner_id=user.id if Role.LEARNER in data.roles or Role.LEARNER.value in before["roles"] else None,
    )
    return True


def _set_roles(user: User, roles: Iterable[Role]) -> None:
    wanted = set(roles)
    user.roles = [r for r in user.roles if r.role in wanted] + [
        UserRole(role=role) for role in sorted(wanted - user.role_set)
    ]
    if Role.LEARNER in wanted and user.profile is None:
        user.profile = LearnerProfile(certificate_name=user.full_name)  # the learner corrects it


def set_enabled(actor: Actor, user: User, enabled: bool, reason: str) -> None:
    """Disable (every session ends at once) or re-enable an account, with the reason audited."""
    _start()
    db.session.expire(user)
    _refuse_erased(user)
    reason = reason.strip()
    if not reason:
        raise AccountError("Give a reason.")
    if user.is_enabled == enabled:
        raise AccountError(
            "This account is already enabled." if enabled else "This account is already disabled."
        )
    if not enabled:
        problem = self_disable_problem(actor.user.id if actor.user else None, user.id)
        if problem:
            raise AccountError(problem)
        _check_admin_rule(actor, user, admin_after=False)
    user.is_enabled = enabled
    user.rotate_session_token()  # a re-enabled account does not revive the cookies it had
    db.session.flush()
    record_event(
        actor,
        "account.enable" if enabled else "account.disable",
        "user",
        user.id,
        before={"enabled": not enabled},
        after={"enabled": enabled},
        reason=reason,
        learner_id=_learner_id(user),
    )


def sign_out_everywhere(actor: Actor, user: User) -> None:
    """End every session of the account: the login cookie's token rotates, so no copy works."""
    _start()
    user.rotate_session_token()
    db.session.flush()
    record_event(actor, "account.sign_out_everywhere", "user", user.id, learner_id=_learner_id(user))


def account_link(actor: Actor, user: User) -> tuple[TokenPurpose, str]:
    """A fresh invitation (no password yet) or password-reset link secret for the account."""
    _start()
    db.session.expire(user)
    _refuse_erased(user)
    if not user.is_enabled:
        raise AccountError("This account is disabled: enable it before sending a link.")
    if user.password_hash is None:
        return TokenPurpose.INVITE, _invite(actor, user)
    raw = issue_token(user, TokenPurpose.RESET, ttl=ADMIN_RESET_TTL)
    record_event(
        actor,
        "account.reset_link",
        "user",
        user.id,
        after={"valid_hours": ADMIN_RESET_TTL.total_seconds() / 3600},
        learner_id=_learner_id(user),
    )
    return TokenPurpose.RESET, raw
