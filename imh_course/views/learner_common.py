"""Loading helpers shared by the learner view modules: 404 for anything not the learner's own."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, request
from flask_login import current_user
from sqlalchemy import select

from ..access import learner_enrolment
from ..extensions import db
from ..ledgers import credit_policy, learner_ledger
from ..models.curriculum import CourseSession
from ..models.offerings import Enrolment, EnrolmentStatus, Offering
from ..operations.audit import Actor
from ..roles import Role
from .helpers import get_or_404


def learner_actor() -> Actor:
    return Actor(user=current_user, role=Role.LEARNER.value, ip_address=request.remote_addr)


def studied_offering(offering_id: int) -> tuple[Offering, Enrolment]:
    """The offering and the learner's enrolment, or 404 (not enrolled looks like not there)."""
    offering = get_or_404(Offering, offering_id)
    enrolment = learner_enrolment(current_user, offering)
    if enrolment is None:
        abort(404)
    return offering, enrolment


def require_writable(enrolment: Enrolment) -> None:
    """Withdrawn enrolments are read-only."""
    if enrolment.status is EnrolmentStatus.WITHDRAWN:
        abort(403)


def current_item(model: type, offering: Offering, key: str) -> Any:
    """The current, published version of a content item in this offering's course, or 404."""
    item = db.session.scalar(
        select(model)
        .join(CourseSession, model.session_id == CourseSession.id)
        .where(
            model.key == key,
            model.is_current.is_(True),
            model.is_published.is_(True),
            CourseSession.course_id == offering.course_id,
        )
    )
    if item is None:
        abort(404)
    return item


def my_ledger(offering: Offering, *, full_session_id: int | None = None):  # noqa: ANN201
    return learner_ledger(
        offering, current_user.id, credit_policy(current_app.config), full_session_id=full_session_id
    )
