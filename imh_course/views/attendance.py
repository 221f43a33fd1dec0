"""Attendance: the instructor's roster of a meeting, marks and corrections.

Staff pages answer 404 for an offering the person does not take attendance for, and for a meeting
that is not part of the offering in the URL. Pipeline: load or 404 → authorise → validate the form
→ call the operation → commit once → redirect; bad input re-renders the page with errors (400).

The roster page itself (rows, evidence, history, the inputs of each row) is built in
``views/attendance_roster.py``. Self check-in (``views/checkin.py``) and participant reports
(``views/participant_reports.py``) use this module's loading helpers (``staff_meeting``,
``staff_actor``, ``roster_url``).
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, url_for
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..forms.attendance import STATUS_LABELS, AllPresentForm, MarkForm
from ..models.audit_chain import Actor
from ..models.offerings import Enrolment, Meeting, Offering
from ..operations.attendance import (
    AttendanceError,
    MarkChange,
    learner_record,
    local_datetime,
    mark,
    mark_all_present,
)
from ..rules.credit import AttendanceStatus
from ..rules.text import plural
from ..security.access import can_take_attendance, require_permission, teaches
from ..security.roles import Permission, Role
from .attendance_roster import local_clock, render_roster
from .blueprint import bp
from .helpers import client_ip, get_or_404

STAFF_ATTENDANCE = (Permission.TAKE_ATTENDANCE, Permission.CORRECT_RECORDS)
PREFIX = "/staff/offerings/<dbint:offering_id>/meetings/<dbint:meeting_id>"


# --- loading -------------------------------------------------------------------------------------


def staff_meeting(offering_id: int, meeting_id: int) -> tuple[Offering, Meeting]:
    """The offering and its meeting, or 404 (another offering's meeting looks like no meeting)."""
    offering = get_or_404(Offering, offering_id)
    if not can_take_attendance(current_user, offering):
        abort(404)
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or meeting.offering_id != offering.id:
        abort(404)
    return offering, meeting


def staff_actor(offering: Offering) -> Actor:
    """Instructors act as instructor on offerings they teach; anyone else here is a coordinator."""
    instructs = current_user.can(Permission.TAKE_ATTENDANCE) and teaches(current_user, offering)
    role = Role.INSTRUCTOR if instructs else Role.COORDINATOR
    return Actor(user=current_user, role=role.value, ip_address=client_ip())


def roster_url(offering: Offering, meeting: Meeting, anchor: str = "") -> str:
    url = url_for("imh.attendance_roster", offering_id=offering.id, meeting_id=meeting.id)
    return url + (f"#{anchor}" if anchor else "")


# --- staff routes --------------------------------------------------------------------------------


@bp.route(PREFIX + "/attendance")
@require_permission(*STAFF_ATTENDANCE)
def attendance_roster(offering_id: int, meeting_id: int):
    """The roster of one meeting: each learner's mark, times, credited minutes, evidence and history."""
    offering, meeting = staff_meeting(offering_id, meeting_id)
    return render_roster(offering, meeting)


def _typed_time(
    meeting: Meeting, offering: Offering, typed: time | None, kept: datetime | None
) -> datetime | None:
    """A typed HH:MM as UTC; an unchanged minute keeps the stored time to the second."""
    if typed is None:
        return None
    zone = ZoneInfo(offering.timezone)
    if kept is not None and local_clock(kept, zone) == typed.replace(second=0, microsecond=0):
        return kept
    return local_datetime(meeting, offering.timezone, typed)


@bp.route(PREFIX + "/attendance/learners/<dbint:learner_id>", methods=["POST"])
@require_permission(*STAFF_ATTENDANCE)
def attendance_mark(offering_id: int, meeting_id: int, learner_id: int):
    """Mark one learner; a change to a saved mark needs a reason."""
    offering, meeting = staff_meeting(offering_id, meeting_id)
    enrolment = db.session.scalar(
        select(Enrolment).where(Enrolment.offering_id == offering.id, Enrolment.user_id == learner_id)
    )
    if enrolment is None:
        abort(404)
    form = MarkForm(prefix=f"l{learner_id}")
    name = enrolment.user.full_name
    if form.validate_on_submit():
        status = AttendanceStatus(form.status.data)
        record = learner_record(meeting.id, learner_id)
        arrived = departed = None
        if status in (AttendanceStatus.LATE, AttendanceStatus.LEFT_EARLY):
            arrived = _typed_time(meeting, offering, form.arrived.data, record.arrived_dt if record else None)
            departed = _typed_time(
                meeting, offering, form.departed.data, record.departed_dt if record else None
            )
        try:
            result = mark(
                staff_actor(offering), meeting, enrolment.user, status, arrived, departed, form.reason.data
            )
            db.session.commit()
        except AttendanceError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            messages = {
                MarkChange.CREATED: f"Saved: {name} — {STATUS_LABELS[status].lower()}.",
                MarkChange.CORRECTED: f"Corrected: {name} — {STATUS_LABELS[status].lower()}. "
                "The change and its reason are in the history.",
                MarkChange.UNCHANGED: f"Nothing changed for {name}.",
            }
            flash(messages[result.change], "success")
            return redirect(roster_url(offering, meeting, f"learner-{learner_id}"))
    problems = form.form_errors + [e for f in form if f.errors for e in f.errors]
    flash(f"{name}: not saved. " + " ".join(problems), "error")
    return render_roster(offering, meeting, bound={learner_id: form}), 400


@bp.route(PREFIX + "/attendance/all-present", methods=["POST"])
@require_permission(*STAFF_ATTENDANCE)
def attendance_all_present(offering_id: int, meeting_id: int):
    """One click: everyone without a mark is present for the full meeting; saved marks stay."""
    offering, meeting = staff_meeting(offering_id, meeting_id)
    if not AllPresentForm().validate_on_submit():
        flash("Your form expired. Please try again.", "error")
        return render_roster(offering, meeting), 400
    try:
        result = mark_all_present(staff_actor(offering), meeting)
        db.session.commit()
    except AttendanceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return render_roster(offering, meeting), 400
    message = f"Marked {plural(len(result.marked), 'learner')} present for the full meeting."
    if result.unchanged == 1:
        message += " 1 learner already had a mark; it was kept."
    elif result.unchanged:
        message += f" {result.unchanged} learners already had marks; they were kept."
    flash(message, "success")
    return redirect(roster_url(offering, meeting))
