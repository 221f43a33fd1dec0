"""Roles, permissions and the one table that links them.

Views ask for permissions, never role names, so a role can change what it may do in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    LEARNER = "learner"
    INSTRUCTOR = "instructor"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


class Permission(StrEnum):
    LEARN = "learn"  # read, do exercises and quizzes, check in, own certificates
    AUTHOR_CONTENT = "author_content"
    TAKE_ATTENDANCE = "take_attendance"
    REVIEW_SHARED_RESPONSES = "review_shared_responses"
    MANAGE_OFFERINGS = "manage_offerings"
    ENROL_LEARNERS = "enrol_learners"
    AUDIT_COMPLETION = "audit_completion"
    CORRECT_RECORDS = "correct_records"
    ISSUE_CERTIFICATES = "issue_certificates"
    EXPORT_REPORTS = "export_reports"
    VIEW_AUDIT_TRAIL = "view_audit_trail"
    MANAGE_ACCOUNTS = "manage_accounts"
    VIEW_OUTBOX = "view_outbox"  # the outbox page: status, failure reasons, retry now
    MANAGE_LTI = "manage_lti"  # LMS registrations, resource links and LTI account links


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.LEARNER: frozenset({Permission.LEARN}),
    Role.INSTRUCTOR: frozenset(
        {Permission.AUTHOR_CONTENT, Permission.TAKE_ATTENDANCE, Permission.REVIEW_SHARED_RESPONSES}
    ),
    Role.COORDINATOR: frozenset(
        {
            Permission.MANAGE_OFFERINGS,
            Permission.ENROL_LEARNERS,
            Permission.AUDIT_COMPLETION,
            Permission.CORRECT_RECORDS,
            Permission.ISSUE_CERTIFICATES,
            Permission.EXPORT_REPORTS,
            Permission.VIEW_AUDIT_TRAIL,
            Permission.TAKE_ATTENDANCE,
            Permission.VIEW_OUTBOX,
        }
    ),
    Role.ADMIN: frozenset(
        {
            Permission.MANAGE_ACCOUNTS,
            Permission.VIEW_AUDIT_TRAIL,
            Permission.VIEW_OUTBOX,
            Permission.MANAGE_LTI,
        }
    ),
}


def permissions_for(roles: Iterable[Role]) -> frozenset[Permission]:
    """The union of the permissions of every role a person holds."""
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)


def unassigned_permissions() -> frozenset[Permission]:
    """Permissions no role grants: a configuration mistake caught at start-up."""
    return frozenset(Permission) - permissions_for(Role)
