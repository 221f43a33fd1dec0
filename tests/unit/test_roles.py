"""The one role -> permission table."""

from imh_course.security.roles import (
    ROLE_PERMISSIONS,
    Permission,
    Role,
    permissions_for,
    unassigned_permissions,
)


def test_every_permission_belongs_to_some_role():
    """A permission no role grants is a configuration mistake."""
    assert unassigned_permissions() == frozenset()


def test_roles_do_not_imply_each_other():
    """There is no hierarchy: an admin manages accounts but does not take attendance."""
    assert Permission.TAKE_ATTENDANCE not in ROLE_PERMISSIONS[Role.ADMIN]
    assert Permission.LEARN not in ROLE_PERMISSIONS[Role.COORDINATOR]


def test_a_person_with_several_roles_has_the_union():
    """Someone who is both instructor and learner may do both."""
    granted = permissions_for([Role.LEARNER, Role.INSTRUCTOR])
    assert {Permission.LEARN, Permission.TAKE_ATTENDANCE} <= granted
    assert Permission.MANAGE_OFFERINGS not in granted
