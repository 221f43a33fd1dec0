"""The learner's pages: their offerings, the 11 sessions, a session's readings and exercises."""

from __future__ import annotations

from flask import abort, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..access import can_study, require_permission
from ..extensions import db
from ..models.curriculum import CourseSession, Exercise, Quiz, Reading
from ..models.offerings import Enrolment, Meeting, Offering
from ..roles import Permission
from . import bp
from .helpers import get_or_404


@bp.route("/learn")
@require_permission(Permission.LEARN)
def learner_home():
    """The offerings the learner is enrolled in (straight to the dashboard when there is one)."""
    enrolments = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.user_id == current_user.id)
        .options(selectinload(Enrolment.offering))
        .order_by(Enrolment.enrolled_dt.desc())
    ).all()
    if len(enrolments) == 1:
        return redirect(url_for("imh.offering_dashboard", offering_id=enrolments[0].offering_id))
    return render_template("imh_course/learner/home.html", enrolments=enrolments)


def _studied_offering(offering_id: int) -> Offering:
    """Load the offering or 404; a learner not enrolled in it gets 404 too (no existence leak)."""
    offering = get_or_404(Offering, offering_id)
    if not can_study(current_user, offering):
        abort(404)
    return offering


@bp.route("/learn/offerings/<int:offering_id>")
@require_permission(Permission.LEARN)
def offering_dashboard(offering_id: int):
    """The 11 sessions in order, each with its meeting date and time."""
    offering = _studied_offering(offering_id)
    meetings = db.session.scalars(
        select(Meeting)
        .where(Meeting.offering_id == offering.id)
        .options(selectinload(Meeting.session))
        .join(CourseSession, Meeting.session_id == CourseSession.id)
        .order_by(CourseSession.number)
    ).all()
    return render_template("imh_course/learner/dashboard.html", offering=offering, meetings=meetings)


@bp.route("/learn/offerings/<int:offering_id>/sessions/<int:number>")
@require_permission(Permission.LEARN)
def session_page(offering_id: int, number: int):
    """Objectives, readings, exercises and the quiz of one session."""
    offering = _studied_offering(offering_id)
    session = db.session.scalar(
        select(CourseSession).where(
            CourseSession.course_id == offering.course_id, CourseSession.number == number
        )
    )
    if session is None:
        abort(404)
    meeting = db.session.scalar(
        select(Meeting).where(Meeting.offering_id == offering.id, Meeting.session_id == session.id)
    )

    def current(model):  # noqa: ANN001, ANN202
        return db.session.scalars(
            select(model)
            .where(model.session_id == session.id, model.is_current.is_(True), model.is_published.is_(True))
            .order_by(model.position)
        ).all()

    return render_template(
        "imh_course/learner/session.html",
        offering=offering,
        session=session,
        meeting=meeting,
        readings=current(Reading),
        exercises=current(Exercise),
        quizzes=current(Quiz),
    )
