"""Who may do what: permission decorators for views and object predicates for rows.

Every view carries an access rule (``public``, ``login_required_view`` or ``require_permission``);
a test walks ``app.url_map`` so a route without one fails CI. Templates call the same predicates,
so buttons and routes agree.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db, login_manager
from ..models.accounts import User
from ..models.offerings import Enrolment, EnrolmentStatus, InstructorAssignment, Offering
from .roles import Permission

F = TypeVar("F", bound=Callable[..., Any])
ACCESS_ATTR = "_imh_access"


def public(view: F) -> F:
    """Anyone, signed in or not, may open this route."""
    setattr(view, ACCESS_ATTR, "public")
    return view


def login_required_view(view: F) -> F:
    """Any signed-in person; finer checks happen on the object inside the view."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    setattr(wrapper, ACCESS_ATTR, "login")
    return wrapper  # type: ignore[return-value]


def require_permission(*permissions: Permission) -> Callable[[F], F]:
    """Signed in and holding at least one of ``permissions`` (anonymous -> sign-in, else 403)."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not any(current_user.can(p) for p in permissions):
                abort(403)
            return view(*args, **kwargs)

        setattr(wrapper, ACCESS_ATTR, tuple(permissions))
        return wrapper  # type: ignore[return-value]

    return decorator


def learner_enrolment(user: User, offering: Offering) -> Enrolment | None:
    """The learner's enrolment in ``offering`` (any status), or None."""
    if not user.is_authenticated or not user.can(Permission.LEARN):
        return None
    return db.session.scalar(
        select(Enrolment).where(Enrolment.offering_id == offering.id, Enrolment.user_id == user.id)
    )


def can_study(user: User, offering: Offering) -> bool:
    """A learner may open an offering they are (or were) enrolled in."""
    return learner_enrolment(user, offering) is not None


def can_submit_work(user: User, offering: Offering) -> bool:
    """Withdrawn enrolments are read-only."""
    enrolment = learner_enrolment(user, offering)
    return enrolment is not None and enrolment.status is not EnrolmentStatus.WITHDRAWN


def teaches(user: User, offering: Offering) -> bool:
    """An instructor acts only on offerings they are assigned to."""
    if not user.is_authenticated:
        return False
    return (
        db.session.scalar(
            select(InstructorAssignment.id).where(
                InstructorAssignment.offering_id == offering.id, InstructorAssignment.user_id == user.id
            )
        )
        is not None
    )


def can_take_attendance(user: User, offering: Offering) -> bool:
    if not user.is_authenticated:
        return False
    if user.can(Permission.CORRECT_RECORDS):
        return True
    return user.can(Permission.TAKE_ATTENDANCE) and teaches(user, offering)


def can_author(user: User, offering: Offering) -> bool:
    return user.is_authenticated and user.can(Permission.AUTHOR_CONTENT) and teaches(user, offering)


def can_manage_offering(user: User, offering: Offering | None = None) -> bool:
    return user.is_authenticated and user.can(Permission.MANAGE_OFFERINGS)


def can_see_staff_view(user: User, offering: Offering) -> bool:
    """Coordinators see every offering; instructors only the ones they teach."""
    return can_manage_offering(user, offering) or (
        user.is_authenticated and user.can(Permission.TAKE_ATTENDANCE) and teaches(user, offering)
    )
