"""Who may lose the admin role: the site must always keep one enabled admin, and nobody demotes
or disables themselves (they would lock themselves out mid-task, with nobody to undo it).

Plain values in, a user-facing refusal (or None) out; ``operations.account_admin`` asks these
inside a transaction that serialises account changes, so two admins cannot each remove the other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AdminChange:
    """One change to an account, as far as the admin rules care."""

    actor_id: int | None  # None: the system (command line)
    target_id: int
    #: the target is an enabled admin now
    is_admin_now: bool
    #: the target will be an enabled admin after the change
    is_admin_after: bool
    #: enabled admins other than the target
    other_enabled_admins: int


def admin_change_problem(change: AdminChange) -> str | None:
    """Why the change is refused, or None when it keeps the site administrable."""
    if not change.is_admin_now or change.is_admin_after:
        return None
    if change.actor_id == change.target_id:
        return "You cannot remove your own admin role or disable your own account; ask another admin."
    if change.other_enabled_admins < 1:
        return "This is the last enabled admin: make someone else an admin first."
    return None


def self_disable_problem(actor_id: int | None, target_id: int) -> str | None:
    """Nobody disables their own account (whatever their roles): they would sign themselves out."""
    if actor_id is not None and actor_id == target_id:
        return "You cannot disable your own account."
    return None


def account_status(*, is_enabled: bool, has_password: bool, erased: bool) -> str:
    """The one word the admin's list shows: erased, disabled, invited (no password yet) or active."""
    if erased:
        return "erased"
    if not is_enabled:
        return "disabled"
    if not has_password:
        return "invited"
    return "active"
