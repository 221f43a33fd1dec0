"""Coordinator pages: create and edit offerings, schedule and edit meetings.

Pipeline: load or 404 → authorise (``require_permission``) → validate the form (bad input
re-renders with its errors and status 400) → call the operation → commit once → redirect. The
helpers here (``OFFERING``, ``coordinator_actor``, ``error_into``) serve the other coordinator
modules too; enrolling learners is in ``views/enrolments.py``.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from ..extensions import db
from ..forms.coordinator import MeetingForm, OfferingForm, ScheduleForm
from ..models.audit_chain import Actor
from ..models.curriculum import Course
from ..models.offerings import DeliveryFormat, Meeting, Offering, Term
from ..operations.enrolment import EnrolmentError
from ..operations.offerings import (
    ApprovalData,
    OfferingData,
    OfferingError,
    create_offering,
    instructor_choices,
    local_window,
    schedule_meetings,
    update_meeting,
    update_offering,
)
from ..rules.licenses import Board
from ..rules.text import plural
from ..security.access import require_permission
from ..security.roles import Permission, Role
from .blueprint import bp
from .helpers import client_ip, get_or_404

OFFERING = "/staff/offerings/<dbint:offering_id>"


def coordinator_actor() -> Actor:
    """The signed-in person, acting as coordinator, for the audit trail."""
    return Actor(user=current_user, role=Role.COORDINATOR.value, ip_address=client_ip())


def error_into(form, exc: OfferingError | EnrolmentError) -> None:  # noqa: ANN001
    """Show an operation's refusal beside its field (or at the top of the form)."""
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, str(exc)]
    else:
        form.form_errors.append(str(exc))


# --- offerings ---------------------------------------------------------------------------------------
def _offering_form() -> OfferingForm:
    form = OfferingForm()
    form.instructors.choices = [
        SelectChoice(u.id, f"{u.full_name} ({u.email})") for u in instructor_choices()
    ]
    return form


def _offering_data(form: OfferingForm) -> OfferingData:
    approvals = tuple(
        ApprovalData(
            board, getattr(form, f"{board.value}_number").data, getattr(form, f"{board.value}_statement").data
        )
        for board in Board
        if getattr(form, f"{board.value}_number").data
    )
    return OfferingData(
        term=Term(form.term.data),
        year=form.year.data,
        format=DeliveryFormat(form.format.data),
        timezone=form.timezone.data,
        location=form.location.data,
        meeting_url=form.meeting_url.data,
        approvals=approvals,
        instructor_ids=tuple(form.instructors.data or ()),
    )


def _course() -> Course:
    course = db.session.scalar(select(Course).order_by(Course.id).limit(1))
    if course is None:
        abort(404)
    return course


@bp.route("/staff/offerings/new", methods=["GET", "POST"])
@require_permission(Permission.MANAGE_OFFERINGS)
def offering_new():
    """A new offering: term and year, format, place or link, time zone, board approvals, instructors."""
    course = _course()
    form = _offering_form()
    if form.validate_on_submit():
        try:
            offering = create_offering(coordinator_actor(), course, _offering_data(form))
        except OfferingError as exc:
            db.session.rollback()
            error_into(form, exc)
        else:
            db.session.commit()
            flash(f"{offering.label} created. Now generate its meetings.", "success")
            return redirect(url_for("imh.meetings_schedule", offering_id=offering.id))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "imh_course/coordinator/offering_form.html", form=form, offering=None, course=course
    ), status


@bp.route(OFFERING + "/edit", methods=["GET", "POST"])
@require_permission(Permission.MANAGE_OFFERINGS)
def offering_edit(offering_id: int):
    offering = get_or_404(Offering, offering_id)
    form = _offering_form()
    if not form.is_submitted():
        form.term.data, form.year.data, form.format.data = (
            offering.term.value,
            offering.year,
            offering.format.value,
        )
        form.location.data, form.meeting_url.data = offering.location, offering.meeting_url
        form.timezone.data = offering.timezone
        for approval in offering.approvals:
            getattr(form, f"{approval.board.value}_number").data = approval.provider_number
            getattr(form, f"{approval.board.value}_statement").data = approval.statement
        form.instructors.data = [a.user_id for a in offering.instructors]
    elif form.validate():
        try:
            changed = update_offering(coordinator_actor(), offering, _offering_data(form))
        except OfferingError as exc:
            db.session.rollback()
            error_into(form, exc)
        else:
            db.session.commit()
            flash("Offering saved." if changed else "Nothing changed.", "success")
            return redirect(url_for("imh.staff_offering", offering_id=offering.id))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "imh_course/coordinator/offering_form.html", form=form, offering=offering, course=offering.course
    ), status


# --- meetings ----------------------------------------------------------------------------------------
@bp.route(OFFERING + "/meetings/schedule", methods=["GET", "POST"])
@require_permission(Permission.MANAGE_OFFERINGS)
def meetings_schedule(offering_id: int):
    """Generate the weekly meetings (one per session) from a first date, a weekday and a time."""
    offering = get_or_404(Offering, offering_id)
    form = ScheduleForm()
    if form.validate_on_submit():
        try:
            meetings = schedule_meetings(
                coordinator_actor(), offering, form.first_date.data, form.weekday.data, form.start_time.data
            )
        except OfferingError as exc:
            db.session.rollback()
            error_into(form, exc)
        else:
            db.session.commit()
            flash(f"{plural(len(meetings), 'meeting')} scheduled. Edit any of them below.", "success")
            return redirect(url_for("imh.staff_offering", offering_id=offering.id))
    status = 400 if form.is_submitted() else 200
    has_meetings = bool(offering.meetings)
    return render_template(
        "imh_course/coordinator/schedule.html", form=form, offering=offering, has_meetings=has_meetings
    ), status


@bp.route(OFFERING + "/meetings/<dbint:meeting_id>/edit", methods=["GET", "POST"])
@require_permission(Permission.MANAGE_OFFERINGS)
def meeting_edit(offering_id: int, meeting_id: int):
    """Move or re-time one meeting, or change its CE eligibility (audited; reason once attended)."""
    offering = get_or_404(Offering, offering_id)
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or meeting.offering_id != offering.id:
        abort(404)
    form = MeetingForm()
    if not form.is_submitted():
        zone = ZoneInfo(offering.timezone)
        start, end = meeting.start_dt.astimezone(zone), meeting.end_dt.astimezone(zone)
        form.day.data, form.start_time.data, form.end_time.data = start.date(), start.time(), end.time()
        form.ce_eligible.data = meeting.is_ce_eligible
    elif form.validate():
        start_dt, end_dt = local_window(
            offering.timezone, form.day.data, form.start_time.data, form.end_time.data
        )
        try:
            changed = update_meeting(
                coordinator_actor(), meeting, start_dt, end_dt, bool(form.ce_eligible.data), form.reason.data
            )
        except OfferingError as exc:
            db.session.rollback()
            error_into(form, exc)
        else:
            db.session.commit()
            flash(f"Session {meeting.session.number} saved." if changed else "Nothing changed.", "success")
            return redirect(url_for("imh.staff_offering", offering_id=offering.id))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "imh_course/coordinator/meeting_form.html", form=form, offering=offering, meeting=meeting
    ), status
