"""Self check-in: staff open and close it and show the rotating code; learners enter the code.

Split from ``views/attendance.py`` (the house's ~400-line rule): these routes drive
``operations/checkin.py``, while the roster and marks stay in the attendance views. The staff
routes load and authorise exactly like the roster (``staff_meeting``: 404 for an offering the
person does not take attendance for, or a meeting of another offering) and fall back to the roster
page when a form fails. Learners check in only to offerings they are enrolled in (404 otherwise;
403 once withdrawn); their code entries are rate-limited per learner, not per address.
Endpoint names and URLs are those the routes had in ``views/attendance.py``.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from ..extensions import db, limiter
from ..forms.attendance import CheckInCodeForm, CheckInToggleForm
from ..models.offerings import Meeting
from ..models.types import utcnow
from ..operations.attendance import AttendanceError, learner_record, needs_departure
from ..operations.checkin import (
    CHECKIN_PERIOD_SECONDS,
    CheckInIntent,
    CheckInOutcome,
    checkin_hours,
    checkin_window,
    close_checkin,
    current_code,
    is_live,
    live_meeting,
    open_checkin,
    self_check_in,
)
from ..rules.checkin_codes import seconds_left
from ..security.access import can_submit_work, require_permission
from ..security.roles import Permission
from .attendance import PREFIX, STAFF_ATTENDANCE, roster_url, staff_actor, staff_meeting
from .attendance_roster import render_roster
from .blueprint import bp
from .helpers import client_ip
from .learner_common import learner_actor, studied_offering

# --- staff routes --------------------------------------------------------------------------------


@bp.route(PREFIX + "/checkin/open", methods=["POST"])
@require_permission(*STAFF_ATTENDANCE)
def checkin_open(offering_id: int, meeting_id: int):
    """Open self check-in (fresh codes) and show the code."""
    offering, meeting = staff_meeting(offering_id, meeting_id)
    if not CheckInToggleForm().validate_on_submit():
        flash("Your form expired. Please try again.", "error")
        return render_roster(offering, meeting), 400
    try:
        open_checkin(staff_actor(offering), meeting)
        db.session.commit()
    except AttendanceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return render_roster(offering, meeting), 400
    return redirect(url_for("imh.checkin_display", offering_id=offering.id, meeting_id=meeting.id))


@bp.route(PREFIX + "/checkin/close", methods=["POST"])
@require_permission(*STAFF_ATTENDANCE)
def checkin_close(offering_id: int, meeting_id: int):
    """Close self check-in: codes stop working at once."""
    offering, meeting = staff_meeting(offering_id, meeting_id)
    if not CheckInToggleForm().validate_on_submit():
        flash("Your form expired. Please try again.", "error")
        return render_roster(offering, meeting), 400
    close_checkin(staff_actor(offering), meeting)
    db.session.commit()
    flash("Check-in is closed. Learners still signed in without a sign-out are flagged below.", "success")
    return redirect(roster_url(offering, meeting))


def _code_state(meeting: Meeting) -> dict[str, object]:
    now = utcnow()
    window = checkin_window(meeting)
    if not is_live(window, meeting, now):
        return {"open": False, "code": None, "seconds_left": None}
    return {
        "open": True,
        "code": current_code(window, now),
        "seconds_left": seconds_left(now, CHECKIN_PERIOD_SECONDS),
    }


@bp.route(PREFIX + "/checkin")
@require_permission(*STAFF_ATTENDANCE)
def checkin_display(offering_id: int, meeting_id: int):
    """The code in large type for the room; it refreshes itself (static script, no inline JS)."""
    offering, meeting = staff_meeting(offering_id, meeting_id)
    opens, closes = checkin_hours(meeting)
    now = utcnow()
    return render_template(
        "imh_course/attendance/checkin_display.html",
        offering=offering,
        meeting=meeting,
        state=_code_state(meeting),
        toggle_form=CheckInToggleForm(formdata=None),
        can_open=opens <= now <= closes,
        learner_url=url_for("imh.learner_checkin", offering_id=offering.id, _external=True),
        period_minutes=CHECKIN_PERIOD_SECONDS // 60,
    )


@bp.route(PREFIX + "/checkin/code.json")
@require_permission(*STAFF_ATTENDANCE)
def checkin_code(offering_id: int, meeting_id: int):
    """The current code for the display page's script (never cached)."""
    _offering, meeting = staff_meeting(offering_id, meeting_id)
    return jsonify(_code_state(meeting))


# --- learner check-in ----------------------------------------------------------------------------

LEARNER_MESSAGES = {
    CheckInOutcome.SIGNED_IN: "You are signed in to Session {n} at {arrived}. "
    "At the end of the session, enter the code shown then to sign out.",
    CheckInOutcome.ALREADY_SIGNED_IN: "You are already signed in to Session {n} (since {arrived}). "
    "Nothing was recorded twice.",
    CheckInOutcome.SIGNED_OUT: "You signed out of Session {n} at {departed}. Thank you!",
    CheckInOutcome.ALREADY_SIGNED_OUT: "You already signed out of Session {n} at {departed}.",
    CheckInOutcome.ALREADY_RECORDED: "Your instructor has already recorded your attendance for Session {n}. "
    "If it is not right, please tell your instructor.",
}
LEARNER_ERRORS = {
    CheckInOutcome.WRONG_CODE: "That code is not right. Check the code shown in the room and try again. "
    "Nothing was recorded.",
    CheckInOutcome.EXPIRED_CODE: "That code has expired: codes change every 2 minutes. "
    "Enter the code shown now. Nothing was recorded.",
    CheckInOutcome.CLOSED: "Check-in is not open right now, so nothing was recorded. "
    "Ask your instructor to open check-in.",
}


def _checkin_rate_key() -> str:
    """Per learner, not per address: a whole class may share one network address."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return request.remote_addr or "unknown"


def _clock(value: datetime | None, tz_name: str) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(tz_name)).strftime("%-I:%M %p")


@bp.route("/learn/offerings/<dbint:offering_id>/check-in", methods=["GET", "POST"])
@limiter.limit("12 per minute", key_func=_checkin_rate_key, methods=["POST"])
@require_permission(Permission.LEARN)
def learner_checkin(offering_id: int):
    """Enter the code shown in the room: once to sign in, again at the end to sign out."""
    offering, _enrolment = studied_offering(offering_id)
    if not can_submit_work(current_user, offering):
        abort(403)
    now = utcnow()
    found = live_meeting(offering.id, now)
    meeting = found[0] if found else None
    record = learner_record(meeting.id, current_user.id) if meeting else None
    form = CheckInCodeForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            if meeting is None:
                form.code.errors.append(LEARNER_ERRORS[CheckInOutcome.CLOSED])
            else:
                intent = CheckInIntent(form.step.data) if form.step.data else None
                outcome = self_check_in(
                    learner_actor(), meeting, form.code.data, client_ip(), now, intent=intent
                )
                if outcome in LEARNER_MESSAGES:
                    db.session.commit()
                    record = learner_record(meeting.id, current_user.id)
                    flash(
                        LEARNER_MESSAGES[outcome].format(
                            n=meeting.session.number,
                            arrived=_clock(record.arrived_dt if record else None, offering.timezone),
                            departed=_clock(record.departed_dt if record else None, offering.timezone),
                        ),
                        "success",
                    )
                    return redirect(url_for("imh.learner_checkin", offering_id=offering.id))
                db.session.rollback()
                if outcome is CheckInOutcome.NOT_ENROLLED:
                    abort(403)
                form.code.errors.append(LEARNER_ERRORS[outcome])
    signed_in = record is not None and record.arrived_dt is not None
    form.code.data = ""
    form.step.data = (CheckInIntent.SIGN_OUT if signed_in else CheckInIntent.SIGN_IN).value
    return render_template(
        "imh_course/attendance/learner_checkin.html",
        offering=offering,
        meeting=meeting,
        record=record,
        form=form,
        signed_in=signed_in,
        awaiting_sign_out=needs_departure(record),
        clock=lambda value: _clock(value, offering.timezone),
    ), status
