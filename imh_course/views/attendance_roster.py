"""The attendance roster page of one meeting, built: each learner's row, evidence and history.

Every enrolled learner (withdrawn ones only if they have a record) with the saved mark, attended
and credited minutes, the evidence and the audited history, in a fixed number of statements. The
rows print plain inputs (``MarkInputs``) rather than a form object per row, for speed. Used by the
attendance routes (``views/attendance.py``) and by check-in, which re-renders the roster when a
form fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from ..extensions import db
from ..forms.attendance import (
    STATUS_CHOICES,
    STATUS_LABELS,
    TIME_FORMAT,
    AllPresentForm,
    CheckInToggleForm,
    MarkForm,
    ReportUploadForm,
)
from ..models.accounts import User
from ..models.attendance import AttendanceEvidence, AttendanceMethod, AttendanceRecord, EvidenceKind
from ..models.audit import AuditEvent
from ..models.offerings import Enrolment, EnrolmentStatus, Meeting, Offering
from ..models.types import utcnow
from ..operations.attendance import MAX_REASON_CHARS, needs_departure
from ..operations.checkin import checkin_hours, checkin_window, is_live
from ..records.ledgers import credit_policy, meeting_window
from ..rules.credit import AttendanceStatus, meeting_credit
from ..rules.participant_report import MAX_BYTES as REPORT_MAX_BYTES

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
    EvidenceKind.REPORT: "Confirmed",
}
METHOD_LABELS = {
    AttendanceMethod.CODE: "check-in code",
    AttendanceMethod.INSTRUCTOR: "instructor",
    AttendanceMethod.COORDINATOR: "coordinator correction",
    AttendanceMethod.VIDEO_REPORT: "video platform report",
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


@dataclass(frozen=True, slots=True)
class MarkInputs:
    """What one roster row's inputs show: the saved mark, or what was typed when the form came back
    with errors. The roster prints these into plain inputs named like ``MarkForm(prefix=...)``'s
    fields (200 rows: a form object per row made the page 5× slower); the POST still goes through
    ``MarkForm`` for CSRF and validation."""

    prefix: str  # "l42": the MarkForm prefix of this learner
    status: str | None  # the selected option's value; None selects none (the first is shown)
    arrived: str  # "12:20", or the text typed
    departed: str
    reason: str
    problems: list[str]  # the form's errors (operation errors first), shown beside the row

    @classmethod
    def saved(cls, learner_id: int, record: AttendanceRecord | None, zone: ZoneInfo) -> MarkInputs:
        """The saved mark, as ``MarkForm(data=...)`` would show it (times as local HH:MM)."""
        prefix = f"l{learner_id}"
        if record is None:
            return cls(prefix, None, "", "", "", [])
        arrived, departed = (local_clock(t, zone) for t in (record.arrived_dt, record.departed_dt))
        return cls(
            prefix,
            AttendanceStatus(record.status).value,
            arrived.strftime(TIME_FORMAT) if arrived else "",
            departed.strftime(TIME_FORMAT) if departed else "",
            "",
            [],
        )

    @classmethod
    def submitted(cls, learner_id: int, form: MarkForm) -> MarkInputs:
        """What was typed into a form that failed, shown as its widgets show it (``_value()``), and
        its errors."""
        problems = list(form.form_errors) + [e for f in form for e in (f.errors or ())]
        return cls(
            f"l{learner_id}",
            form.status.data,
            form.arrived._value(),
            form.departed._value(),
            form.reason._value(),
            problems,
        )


@dataclass(slots=True)
class RosterRow:
    """One learner's row, as plain values (the template reads each several times)."""

    user_id: int
    name: str
    withdrawn: bool
    record: AttendanceRecord | None
    attended: int
    credited: int
    needs_departure: bool
    inputs: MarkInputs
    evidence: list[AttendanceEvidence] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """Every error of this row's form (operation errors first), for one message beside the row."""
        return self.inputs.problems


def local_clock(value: datetime | None, zone: ZoneInfo) -> time | None:
    """A stored UTC time as the local wall-clock minute (how the roster's time inputs show it)."""
    return value.astimezone(zone).time().replace(second=0, microsecond=0) if value is not None else None


def _roster(
    offering: Offering, meeting: Meeting, bound: dict[int, MarkForm] | None = None
) -> tuple[list[RosterRow], dict[int, str]]:
    """Every enrolled learner (withdrawn ones only if they have a record), with mark and credit."""
    zone = ZoneInfo(offering.timezone)
    credit = meeting_credit(meeting_window(meeting), credit_policy(current_app.config))
    enrolments = db.session.execute(
        select(Enrolment.user_id, User.full_name, Enrolment.status)
        .join(User, User.id == Enrolment.user_id)
        .where(Enrolment.offering_id == offering.id)
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
    for user_id, name, status in sorted(enrolments, key=lambda e: (e.full_name.lower(), e.user_id)):
        record = records.get(user_id)
        withdrawn = status is EnrolmentStatus.WITHDRAWN
        if withdrawn and record is None:
            continue
        attended, credited = (0, 0) if record is None else credit(*_times(record))
        form = (bound or {}).get(user_id)
        rows.append(
            RosterRow(
                user_id=user_id,
                name=name,
                withdrawn=withdrawn,
                record=record,
                attended=attended,
                credited=credited,
                needs_departure=needs_departure(record),
                inputs=(
                    MarkInputs.submitted(user_id, form) if form else MarkInputs.saved(user_id, record, zone)
                ),
                evidence=evidence.get(record.id, []) if record else [],
                history=[_entry(e, people, zone) for e in history.get(str(record.id), [])] if record else [],
            )
        )
    return rows, people


def _times(record: AttendanceRecord) -> tuple[AttendanceStatus, datetime | None, datetime | None]:
    return AttendanceStatus(record.status), record.arrived_dt, record.departed_dt


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


def render_roster(offering: Offering, meeting: Meeting, bound: dict[int, MarkForm] | None = None):  # noqa: ANN202
    """The roster page; ``bound`` holds the failed forms of rows to show with what was typed."""
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
        status_choices=STATUS_CHOICES,
        reason_max=MAX_REASON_CHARS,
        csrf=_row_csrf(),
        all_present_form=AllPresentForm(formdata=None),
        toggle_form=CheckInToggleForm(formdata=None),
        report_form=ReportUploadForm(formdata=None),
        max_mb=REPORT_MAX_BYTES // 1_000_000,
        window=window,
        live=is_live(window, meeting, now),
        can_open=opens <= now <= closes,
        opens=opens,
        closes=closes,
        flagged=sum(1 for r in rows if r.needs_departure),
        unmarked=sum(1 for r in rows if r.record is None),
        policy=credit_policy(current_app.config),
    )


def _row_csrf() -> tuple[str, str] | None:
    """(field name, token) for the rows' hidden CSRF inputs, as ``MarkForm.hidden_tag()`` renders
    them (``<prefix>-csrf_token``); None when CSRF protection is switched off (e.g. the benchmark)."""
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return None
    return current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), generate_csrf()
