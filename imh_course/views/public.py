"""Pages anyone may open: the public course page."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models.curriculum import Course
from ..models.offerings import InstructorAssignment, Meeting, Offering
from ..models.types import utcnow
from ..security.access import public
from .blueprint import bp


@bp.route("/")
@public
def course_page():
    """The course description, hours, cost and upcoming offerings, from the content files."""
    course = db.session.scalar(select(Course).order_by(Course.id).limit(1))
    offerings = []
    if course is not None:
        now = utcnow()
        offerings = [
            o
            for o in db.session.scalars(
                select(Offering)
                .where(Offering.course_id == course.id)
                .options(
                    selectinload(Offering.meetings).selectinload(Meeting.session),
                    selectinload(Offering.instructors).selectinload(InstructorAssignment.user),
                )
                .order_by(Offering.year, Offering.id)
            )
            if o.meetings and o.meetings[-1].end_dt >= now
        ]
    return render_template("imh_course/course_page.html", course=course, offerings=offerings)


@bp.route("/healthz")
@public
def healthz():
    """Liveness and database check for load balancers: 200 when the database answers, else 503.

    ``limiter`` reports the rate-limit storage: ``ok``, ``disabled``, or ``degraded`` when Redis does
    not answer. Degraded stays 200: the app works on in-process limits, and taking every node out
    of the balancer because Redis is down would turn a weaker limit into an outage.
    """
    from flask import current_app, jsonify
    from sqlalchemy import text

    from ..security.signin_throttle import limiter_health

    limiter = limiter_health(current_app)
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means "not healthy"
        db.session.rollback()
        return jsonify(status="unavailable", database="error", limiter=limiter), 503
    return jsonify(status="ok", database="ok", limiter=limiter)
