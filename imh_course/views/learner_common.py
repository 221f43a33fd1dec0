"""Loading helpers shared by the learner view modules: 404 for anything not the learner's own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort, current_app, request
from flask_login import current_user
from sqlalchemy import and_, bindparam, select

from ..extensions import db
from ..models.audit_chain import Actor
from ..models.curriculum import Course, CourseSession
from ..models.offerings import Enrolment, EnrolmentStatus, Offering
from ..records.certificate_facts import learner_ce_standing
from ..records.content_snapshot import CourseSnapshot, course_snapshot
from ..records.ledgers import LearnerLedger, credit_policy, learner_ledger
from ..rules.ce_standing import CeStanding
from ..security.roles import Permission, Role


def learner_actor() -> Actor:
    return Actor(user=current_user, role=Role.LEARNER.value, ip_address=request.remote_addr)


#: Built once (building it per request cost about as much as running it).
_STUDIED = (
    select(Offering, Enrolment, Course.content_revision)
    .join(Course, Course.id == Offering.course_id)
    .outerjoin(
        Enrolment, and_(Enrolment.offering_id == Offering.id, Enrolment.user_id == bindparam("user_id"))
    )
    .where(Offering.id == bindparam("offering_id"))
)


def studied_offering_and_revision(offering_id: int) -> tuple[Offering, Enrolment, str]:
    """The offering, the learner's enrolment and the course's content revision, in one query; or 404.

    Not enrolled looks like not there (as ``access.learner_enrolment``, which this inlines so that
    the enrolment and the revision of the content snapshot come with the offering, not after it).
    """
    if not current_user.is_authenticated or not current_user.can(Permission.LEARN):
        abort(404)
    row = db.session.execute(_STUDIED, {"offering_id": offering_id, "user_id": current_user.id}).one_or_none()
    if row is None or row[1] is None:
        abort(404)
    return row[0], row[1], row[2]


def studied_offering(offering_id: int) -> tuple[Offering, Enrolment]:
    """The offering and the learner's enrolment, or 404 (not enrolled looks like not there)."""
    offering, enrolment, _revision = studied_offering_and_revision(offering_id)
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


def my_snapshot(offering: Offering, revision: str) -> CourseSnapshot:
    """The course's published content as of ``revision`` (the per-process snapshot)."""
    return course_snapshot(offering.course_id, revision)


def my_ledger(
    offering: Offering, snapshot: CourseSnapshot | None = None, *, now: datetime | None = None
) -> LearnerLedger:
    """The signed-in learner's two ledgers in ``offering``."""
    return learner_ledger(
        offering, current_user.id, credit_policy(current_app.config), snapshot=snapshot, now=now
    )


def my_ce_standing(offering: Offering) -> CeStanding:
    """Whether the signed-in learner's face-to-face hours in ``offering`` are CE (and their label)."""
    return learner_ce_standing(current_user, offering)
