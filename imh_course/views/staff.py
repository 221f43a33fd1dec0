"""Instructor and coordinator pages (more arrive with the instructor and coordinator issues)."""

from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models.offerings import Enrolment, InstructorAssignment, Meeting, Offering
from ..security.access import can_manage_offering, can_see_staff_view, can_take_attendance, require_permission
from ..security.roles import Permission
from .blueprint import bp
from .helpers import get_or_404

STAFF = (Permission.TAKE_ATTENDANCE, Permission.MANAGE_OFFERINGS, Permission.AUTHOR_CONTENT)


@bp.route("/staff")
@require_permission(*STAFF)
def staff_home():
    """Coordinators see every offering; instructors see the offerings they teach."""
    query = (
        select(Offering)
        .options(selectinload(Offering.instructors))  # the per-offering authoring links check them
        .order_by(Offering.year.desc(), Offering.id.desc())
    )
    if not can_manage_offering(current_user):
        query = query.join(InstructorAssignment).where(InstructorAssignment.user_id == current_user.id)
    offerings = db.session.scalars(query).all()
    return render_template("imh_course/staff/home.html", offerings=offerings)


@bp.route("/staff/offerings/<dbint:offering_id>")
@require_permission(*STAFF)
def staff_offering(offering_id: int):
    """Schedule and roster of one offering."""
    offering = get_or_404(Offering, offering_id)
    if not can_see_staff_view(current_user, offering):
        abort(404)
    meetings = db.session.scalars(
        select(Meeting)
        .where(Meeting.offering_id == offering.id)
        .options(selectinload(Meeting.session))
        .order_by(Meeting.start_dt)
    ).all()
    enrolments = db.session.scalars(
        select(Enrolment).where(Enrolment.offering_id == offering.id).options(selectinload(Enrolment.user))
    ).all()
    return render_template(
        "imh_course/staff/offering.html",
        offering=offering,
        meetings=meetings,
        enrolments=enrolments,
        take_attendance=can_take_attendance(current_user, offering),  # once, not once per meeting
    )
