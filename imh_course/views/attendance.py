"""Attendance: the instructor's roster, marks and check-in display; the learner's check-in page.

Staff pages answer 404 for an offering the person does not take attendance for, and for a meeting
that is not part of the offering in the URL. Learners check in only to offerings they are enrolled
in (404 otherwise; 403 once withdrawn). Pipeline: load or 404 → authorise → validate the form →
call the operation → commit once → redirect; bad input re-renders the page with errors (400).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..access import can_submit_work, can_take_attendance, require_permission, teaches
from ..checkin_codes import seconds_left
from ..extensions import db, limiter
from ..forms_attendance import STATUS_LABELS, AllPresentForm, CheckInCodeForm, CheckInToggleForm, MarkForm
from ..ledgers import credit_for, credit_policy
from ..models.accounts import User
from ..models.attendance import AttendanceEvidence, AttendanceMethod, AttendanceRecord, EvidenceKind
from ..models.audit import AuditEvent
from ..models.offerings import Enrolment, EnrolmentStatus, Meeting, Offering
from ..models.types import utcnow
from ..operations.attendance import (
    CHECKIN_PERIOD_SECONDS,
    AttendanceError,
    CheckInIntent,
    CheckInOutcome,
    MarkChange,
    checkin_hours,
    checkin_window,
    close_checkin,
    current_code,
    is_live,
    learner_record,
    live_meeting,
    local_datetime,
    mark,
    mark_all_present,
    needs_departure,
    open_checkin,
    self_check_in,
)
from ..operations.audit import Actor
from ..roles import Permission, Role
from ..rules.credit import AttendanceStatus
from . import bp
from .helpers import client_ip, get_or_404
from .learner_common import learner_actor, studied_offering

STAFF_ATTENDANCE = (Permission.TAKE_ATTENDANCE, Permission.CORRECT_RECORDS)
PREFIX = "/staff/offerings/<int:offering_id>/meetings/<int:meeting_id>"


# --- loading and roster --------------------------------------------------------------------------


def _staff_meeting(offering_id: int, meeting_id: int) -> tuple[Offering, Meeting]:
    """The offering and its meeting, or 404 (another offering's meeting looks like no meeting)."""
    offering = get_or_404(Offering, offering_id)
    if not can_take_attendance(current_user, offering):
        abort(404)
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or meeting.offering_id != offering.id:
        abort(404)
    return offering, meeting


def _staff_actor(offering: Offering) -> Actor:
    """Instructors act as instructor on offerings they teach; anyone else here is a coordinator."""
    instructs = current_user.can(Permission.TAKE_ATTENDANCE) and teaches(current_user, offering)
    role = Role.INSTRUCTOR if instructs else Role.COORDINATOR
    return Actor(user=current_user, role=role.value, ip_address=client_ip())


ACTION_LABELS = {
    "attendance.sign_in": "Signed in with a code",
    "attendance.sign_out": "Signed out with a code",
    "attendance.mark": "Marked",
    "attendance.correct": "Corrected",
}
EVIDENCE_LABELS = {
    EvidenceKind.SIGN_IN: "Sign-in",
    EvidenceKind.SIGN_OUT: "Sign-out",
    EvidenceKind.MARK: "Mark",
    EvidenceKind.CORRECTION: "Correction",
}
METHOD_LABELS = {
    AttendanceMethod.CODE: "check-in code",
    AttendanceMethod.INSTRUCTOR: "instructor",
    AttendanceMethod.COORDINATOR: "coordinator correction",
}


@dataclass(frozen=True)
class HistoryEntry:
    """One audited change, ready to show: who (in which role), when, what before and after, why."""

    when: datetime
    who: str
    role: str
    action: str
    before: str | None
    after: str | None
    reason: str | None


def describe(state: dict | None, zone: ZoneInfo) -> str | None:
    """“Late, 12:20 PM – 1:30 PM” from an audited snapshot."""
    if not state:
        return None
    label = STATUS_LABELS[AttendanceStatus(state["status"])]
    times = [datetime.fromisoformat(state[k]) if state.get(k) else None for k in ("arrived", "departed")]
    if times == [None, None]:
        return label
    shown = [t.astimezone(zone).strftime("%-I:%M %p") if t else "no sign-out" for t in times]
    return f"{label}, {shown[0]} – {shown[1]}"


@dataclass
class RosterRow:
    enrolment: Enrolment
    record: AttendanceRecord | None
    attended: int
    credited: int
    needs_departure: bool
    form: MarkForm
    evidence: list[AttendanceEvidence] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)

    @property
    def learner(self) -> User:
        return self.enrolment.user

    @property
    def problems(self) -> list[str]:
        """Every error of this row's form (operation errors first), for one message beside the row."""
        return list(self.form.form_errors) + [e for f in self.form for e in (f.errors or ())]


def _local_clock(value: datetime | None, zone: ZoneInfo) -> time | None:
    return value.astimezone(zone).time().replace(second=0, microsecond=0) if value is not None else None


def _unbound_form(learner_id: int, record: AttendanceRecord | None, zone: ZoneInfo) -> MarkForm:
    data = {}
    if record is not None:
        data = {
            "status": AttendanceStatus(record.status).value,
            "arrived": _local_clock(record.arrived_dt, zone),
            "departed": _local_clock(record.departed_dt, zone),
        }
    return MarkForm(formdata=None, prefix=f"l{learner_id}", data=data)


def _roster(
    offering: Offering, meeting: Meeting, bound: dict[int, MarkForm] | None = None
) -> tuple[list[RosterRow], dict[int, str]]:
    """Every enrolled learner (withdrawn ones only if they have a record), with mark and credit."""
    zone = ZoneInfo(offering.timezone)
    policy = credit_policy(current_app.config)
    enrolments = db.session.scalars(
        select(Enrolment).where(Enrolment.offering_id == offering.id).options(selectinload(Enrolment.user))
    ).all()
    records = {
        r.user_id: r
        for r in db.session.scalars(select(AttendanceRecord).where(AttendanceRecord.meeting_id == meeting.id))
    }
    record_ids = [r.id for r in records.values()]
    evidence: dict[int, list[AttendanceEvidence]] = {}
    history: dict[str, list[AuditEvent]] = {}
    if record_ids:
        for item in db.session.scalars(
            select(AttendanceEvidence)
            .where(AttendanceEvidence.record_id.in_(record_ids))
            .order_by(AttendanceEvidence.at_dt, AttendanceEvidence.id)
        ):
            evidence.setdefault(item.record_id, []).append(item)
        for event in db.session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.entity_type == "attendance", AuditEvent.entity_id.in_([str(i) for i in record_ids])
            )
            .order_by(AuditEvent.id)
        ):
            history.setdefault(event.entity_id, []).append(event)
    people = _people(evidence, history)
    rows = []
    for enrolment in sorted(enrolments, key=lambda e: (e.user.full_name.lower(), e.user_id)):
        record = records.get(enrolment.user_id)
        if enrolment.status is EnrolmentStatus.WITHDRAWN and record is None:
            continue
        attended, credited = credit_for(meeting, record, policy)
        form = (bound or {}).get(enrolment.user_id) or _unbound_form(enrolment.user_id, record, zone)
        rows.append(
            RosterRow(
                enrolment=enrolment,
                record=record,
                attended=attended,
                credited=credited,
                needs_departure=needs_departure(record),
                form=form,
                evidence=evidence.get(record.id, []) if record else [],
                history=[_entry(e, people, zone) for e in history.get(str(record.id), [])] if record else [],
            )
        )
    return rows, people


def _entry(event: AuditEvent, people: dict[int, str], zone: ZoneInfo) -> HistoryEntry:
    return HistoryEntry(
        when=event.occurred_dt,
        who=people.get(event.actor_id, "System") if event.actor_id else "System",
        role=event.actor_role,
        action=ACTION_LABELS.get(event.action, event.action),
        before=describe(event.before, zone),
        after=describe(event.after, zone),
        reason=event.reason,
    )


def _people(
    evidence: dict[int, list[AttendanceEvidence]], history: dict[str, list[AuditEvent]]
) -> dict[int, str]:
    """Names of everyone who appears in the evidence and history (one query)."""
    ids = {e.actor_id for items in evidence.values() for e in items if e.actor_id} | {
        h.actor_id for items in history.values() for h in items if h.actor_id
    }
    if not ids:
        return {}
    return {u.id: u.full_name for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def _render_roster(offering: Offering, meeting: Meeting, bound: dict[int, MarkForm] | None = None):  # noqa: ANN202
    rows, people = _roster(offering, meeting, bound)
    now = utcnow()
    window = checkin_window(meeting)
    opens, closes = checkin_hours(meeting)
    return render_template(
        "imh_course/attendance/roster.html",
        offering=offering,
        meeting=meeting,
        rows=rows,
        people=people,
        evidence_labels=EVIDENCE_LABELS,
        method_labels=METHOD_LABELS,
        status_labels=STATUS_LABELS,
        all_present_form=AllPresentForm(formdata=None),
        toggle_form=CheckInToggleForm(formdata=None),
        window=window,
        live=is_live(window, meeting, now),
        can_open=opens <= now <= closes,
        opens=opens,
        closes=closes,
        flagged=sum(1 for r in rows if r.needs_departure),
        unmarked=sum(1 for r in rows if r.record is None),
        policy=credit_policy(current_app.config),
    )


def _roster_url(offering: Offering, meeting: Meeting, anchor: str = "") -> str:
    url = url_for("imh.attendance_roster", offering_id=offering.id, meeting_id=meeting.id)
    return url + (f"#{anchor}" if anchor else "")


# --- staff routes --------------------------------------------------------------------------------


@bp.route(PREFIX + "/attendance")
@require_permission(*STAFF_ATTENDANCE)
def attendance_roster(offering_id: int, meeting_id: int):
    """The roster of one meeting: each learner's mark, times, credited minutes, evidence and history."""
    offering, meeting = _staff_meeting(offering_id, meeting_id)
    return _render_roster(offering, meeting)


def _typed_time(
    meeting: Meeting, offering: Offering, typed: time | None, kept: datetime | None
) -> datetime | None:
    """A typed HH:MM as UTC; an unchanged minute keeps the stored time to the second."""
    if typed is None:
        return None
    zone = ZoneInfo(offering.timezone)
    if kept is not None and _local_clock(kept, zone) == typed.replace(second=0, microsecond=0):
        return kept
    return local_datetime(meeting, offering.timezone, typed)


@bp.route(PREFIX + "/attendance/learners/<int:learner_id>", methods=["POST"])
@require_permission(*STAFF_ATTENDANCE)
def attendance_mark(offering_id: int, meeting_id: int, learner_id: int):
    """Mark one learner; a change to a saved mark needs a reason."""
    offering, meeting = _staff_meeting(offering_id, meeting_id)
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
                _staff_actor(offering), meeting, enrolment.user, status, arrived, departed, form.reason.data
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
            return redirect(_roster_url(offering, meeting, f"learner-{learner_id}"))
    problems = form.form_errors + [e for f in form if f.errors for e in f.errors]
    flash(f"{name}: not saved. " + " ".join(problems), "error")
    return _render_roster(offering, meeting, bound={learner_id: form}), 400


@bp.route(PREFIX + "/attendance/all-present", methods=["POST"])
@require_permission(*STAFF_ATTENDANCE)
def attendance_all_present(offering_id: int, meeting_id: int):
    """One click: everyone without a mark is present for the full meeting; saved marks stay."""
    offering, meeting = _staff_meeting(offering_id, meeting_id)
    if not AllPresentForm().validate_on_submit():
        flash("Your form expired. Please try again.", "error")
        return _render_roster(offering, meeting), 400
    try:
        result = mark_all_present(_staff_actor(offering), meeting)
        db.session.commit()
    except AttendanceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _render_roster(offering, meeting), 400
    message = f"Marked {len(result.marked)} learner(s) present for the full meeting."
    if result.unchanged:
        message += f" {result.unchanged} already had a mark and were left as they were."
    flash(message, "success")
    return redirect(_roster_url(offering, meeting))


@bp.route(PREFIX + "/checkin/open", methods=["POST"])
@require_permission(*STAFF_ATTENDANCE)
def checkin_open(offering_id: int, meeting_id: int):
    """Open self check-in (fresh codes) and show the code."""
    offering, meeting = _staff_meeting(offering_id, meeting_id)
    if not CheckInToggleForm().validate_on_submit():
        flash("Your form expired. Please try again.", "error")
        return _render_roster(offering, meeting), 400
    try:
        open_checkin(_staff_actor(offering), meeting)
        db.session.commit()
    except AttendanceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _render_roster(offering, meeting), 400
    return redirect(url_for("imh.checkin_display", offering_id=offering.id, meeting_id=meeting.id))


@bp.route(PREFIX + "/checkin/close", methods=["POST"])
@require_permission(*STAFF_ATTENDANCE)
def checkin_close(offering_id: int, meeting_id: int):
    """Close self check-in: codes stop working at once."""
    offering, meeting = _staff_meeting(offering_id, meeting_id)
    if not CheckInToggleForm().validate_on_submit():
        flash("Your form expired. Please try again.", "error")
        return _render_roster(offering, meeting), 400
    close_checkin(_staff_actor(offering), meeting)
    db.session.commit()
    flash("Check-in is closed. Learners still signed in without a sign-out are flagged below.", "success")
    return redirect(_roster_url(offering, meeting))


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
    offering, meeting = _staff_meeting(offering_id, meeting_id)
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
    _offering, meeting = _staff_meeting(offering_id, meeting_id)
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


@bp.route("/learn/offerings/<int:offering_id>/check-in", methods=["GET", "POST"])
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
