"""The admin rules: one enabled admin always remains, and nobody demotes or disables themselves."""

from __future__ import annotations

import pytest

from imh_course.rules.accounts import AdminChange, account_status, admin_change_problem, self_disable_problem


def change(
    *, actor: int | None = 1, target: int = 2, now: bool = True, after: bool = False, others: int = 1
) -> AdminChange:
    return AdminChange(
        actor_id=actor, target_id=target, is_admin_now=now, is_admin_after=after, other_enabled_admins=others
    )


def test_removing_another_admin_is_allowed_while_one_remains():
    assert admin_change_problem(change(others=1)) is None


def test_the_last_enabled_admin_cannot_lose_the_role():
    problem = admin_change_problem(change(others=0))
    assert problem is not None and "last enabled admin" in problem


def test_the_system_cannot_remove_the_last_admin_either():
    assert admin_change_problem(change(actor=None, others=0)) is not None


def test_nobody_removes_their_own_admin_role_even_with_other_admins():
    problem = admin_change_problem(change(actor=2, target=2, others=5))
    assert problem is not None and "your own" in problem


@pytest.mark.parametrize(
    ("now", "after"),
    [(False, False), (False, True), (True, True)],
    ids=["not an admin", "becomes an admin", "stays an admin"],
)
def test_changes_that_do_not_take_the_admin_role_away_are_allowed(now, after):
    assert admin_change_problem(change(actor=2, target=2, now=now, after=after, others=0)) is None


def test_nobody_disables_their_own_account():
    assert self_disable_problem(3, 3) is not None
    assert self_disable_problem(3, 4) is None
    assert self_disable_problem(None, 4) is None


@pytest.mark.parametrize(
    ("enabled", "password", "erased", "expected"),
    [
        (True, True, False, "active"),
        (True, False, False, "invited"),
        (False, True, False, "disabled"),
        (False, False, False, "disabled"),
        (False, True, True, "erased"),
    ],
)
def test_account_status(enabled, password, erased, expected):
    assert account_status(is_enabled=enabled, has_password=password, erased=erased) == expected
