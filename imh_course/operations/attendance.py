"""Taking attendance: self check-in with rotating codes, instructor marks, corrections with a reason.

Attendance is the only source of CE contact hours, so every write here leaves a trace: an
``AttendanceEvidence`` row (how, when, which code, from where, by whom) and an audit event in the
same transaction. The first save of a learner's record is a mark (or a sign-in); any later change
by staff is a correction that needs a reason and is audited with before and after. Nothing is
overwritten without a trace.

Exactly-once: the unique (meeting, learner) constraint is the invariant. Writers first lock the
learner's enrolment row (PostgreSQL ``FOR UPDATE``; SQLite writes already hold the database lock
through ``BEGIN IMMEDIATE``), then lock the record, and insert inside a SAVEPOINT so a lost race
becomes "already there" instead of an error.

Like every operation: takes the actor and plain data, flushes, audits, never commits.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..access import can_take_attendance
from ..checkin_codes import accepts, code_for, normalise
from ..database import begin_write
from ..extensions import db
from ..models.accounts import User
from ..models.attendance import (
    AttendanceEvidence,
    AttendanceMethod,
    AttendanceRecord,
    CheckInWindow,
    EvidenceKind,
)
from ..models.offerings import Enrolment, EnrolmentStatus, Meeting
from ..models.types import utcnow
from ..roles import Role
from ..rules.credit import AttendanceStatus
from .audit import Actor, record_event

#: a fresh code every two minutes; the previous one is still accepted (a code read just in time)
CHECKIN_PERIOD_SECONDS = 120
CODE_DIGITS = 6
#: check-in can be opened (and presence recorded) from this long before the start ...
OPENS_BEFORE_START = timedelta(minutes=30)
#: ... and codes stop working this long after the end, even if nobody closed check-in
CLOSES_AFTER_END = timedelta(minutes=60)
#: how far back a typed code is recognised as "expired" rather than "wrong" (one hour of codes)
EXPIRED_LOOKBACK_PERIODS = 30
#: a second entry this soon after signing in is a double submission, not a sign-out
DUPLICATE_WINDOW = timedelta(seconds=60)
MAX_REASON_CHARS = 500
ATTENDED_STATUSES = frozenset({AttendanceStatus.PRESENT, AttendanceStatus.LATE, AttendanceStatus.LEFT_EARLY})
_SLACK = timedelta(minutes=1)  # under a minute past the start is not "late"


class AttendanceError(ValueError):
    """A clear reason an attendance change was refused (nothing was written)."""


class CheckInOutcome(StrEnum):
    """What a learner's code entry did."""

    SIGNED_IN = "signed_in"
    ALREADY_SIGNED_IN = "already_signed_in"  # a repeat before sign-out: nothing written
    SIGNED_OUT = "signed_out"
    ALREADY_SIGNED_OUT = "already_signed_out"
    ALREADY_RECORDED = "already_recorded"  # staff recorded this learner: self check-in writes nothing
    WRONG_CODE = "wrong_code"
    EXPIRED_CODE = "expired_code"
    CLOSED = "closed"  # check-in is not open (or the meeting is long over)
    NOT_ENROLLED = "not_enrolled"

    @property
    def wrote(self) -> bool:
        return self in (CheckInOutcome.SIGNED_IN, CheckInOutcome.SIGNED_OUT)


class CheckInIntent(StrEnum):
    """What the learner's form offered: a stale "sign in" form never signs anyone out."""

    SIGN_IN = "in"
    SIGN_OUT = "out"


class MarkChange(StrEnum):
    CREATED = "created"
    CORRECTED = "corrected"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class MarkResult:
    record: AttendanceRecord
    change: MarkChange


@dataclass
class AllPresentResult:
    marked: list[AttendanceRecord] = field(default_factory=list)
    #: learners who already had a mark (left as they were)
    unchanged: int = 0


# --- reading -------------------------------------------------------------------------------------


def snapshot(record: AttendanceRecord | None) -> dict[str, Any] | None:
    """The audited view of a record: status and times (UTC ISO)."""
    if record is None:
        return None
    return {
        "status": AttendanceStatus(record.status).value,
        "arrived": _iso(record.arrived_dt),
        "departed": _iso(record.departed_dt),
    }


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def learner_record(meeting_id: int, user_id: int, *, lock: bool = False) -> AttendanceRecord | None:
    query = select(AttendanceRecord).where(
        AttendanceRecord.meeting_id == meeting_id, AttendanceRecord.user_id == user_id
    )
    if lock:
        query = query.with_for_update()
    return db.session.scalar(query)


def _enrolment(offering_id: int, user_id: int, *, lock: bool = False) -> Enrolment | None:
    query = select(Enrolment).where(Enrolment.offering_id == offering_id, Enrolment.user_id == user_id)
    if lock:
        query = query.with_for_update()
    return db.session.scalar(query)


def needs_departure(record: AttendanceRecord | None) -> bool:
    """Signed in (or arrival recorded) but no departure: credits nothing, so the roster flags it."""
    return (
        record is not None
        and AttendanceStatus(record.status) in ATTENDED_STATUSES
        and record.arrived_dt is not None
        and record.departed_dt is None
    )


def checkin_hours(meeting: Meeting) -> tuple[datetime, datetime]:
    """When check-in may be open for ``meeting``: shortly before the start until a while after the end."""
    return meeting.start_dt - OPENS_BEFORE_START, meeting.end_dt + CLOSES_AFTER_END


def checkin_window(meeting: Meeting, *, lock: bool = False) -> CheckInWindow | None:
    query = select(CheckInWindow).where(CheckInWindow.meeting_id == meeting.id)
    if lock:
        query = query.with_for_update()
    return db.session.scalar(query)


def is_live(window: CheckInWindow | None, meeting: Meeting, now: datetime) -> bool:
    """Open and within the meeting's check-in hours: only then are codes shown and accepted."""
    if window is None or not window.is_open:
        return False
    opens, closes = checkin_hours(meeting)
    return opens <= now <= closes


def current_code(window: CheckInWindow, now: datetime) -> str:
    return code_for(window.secret, now, CHECKIN_PERIOD_SECONDS, CODE_DIGITS)


def live_meeting(offering_id: int, now: datetime) -> tuple[Meeting, CheckInWindow] | None:
    """The meeting of ``offering_id`` whose check-in is live now (the most recently opened)."""
    rows = db.session.execute(
        select(Meeting, CheckInWindow)
        .join(CheckInWindow, CheckInWindow.meeting_id == Meeting.id)
        .where(Meeting.offering_id == offering_id, CheckInWindow.closed_dt.is_(None))
        .order_by(CheckInWindow.opened_dt.desc())
    ).all()
    for meeting, window in rows:
        if is_live(window, meeting, now):
            return meeting, window
    return None


def local_datetime(meeting: Meeting, tz_name: str, wall: time) -> datetime:
    """A wall-clock time typed for ``meeting`` (in the offering's zone) as UTC.

    The date is the meeting's local date; for a meeting that crosses midnight, whichever of its
    two dates puts the time nearer the meeting is used.
    """
    zone = ZoneInfo(tz_name)
    middle = meeting.start_dt + (meeting.end_dt - meeting.start_dt) / 2
    days = {meeting.start_dt.astimezone(zone).date(), meeting.end_dt.astimezone(zone).date()}
    candidates = [
        datetime.combine(day, wall.replace(tzinfo=None), tzinfo=zone).astimezone(UTC) for day in days
    ]
    return min(candidates, key=lambda moment: abs(moment - middle))


def _now(now: datetime | None) -> datetime:
    moment = now if now is not None else utcnow()
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return moment.astimezone(UTC).replace(microsecond=0)


# --- check-in window -----------------------------------------------------------------------------


def staff_method(actor: Actor) -> AttendanceMethod:
    """Coordinators' changes are coordinator corrections; everyone else acts as instructor."""
    return (
        AttendanceMethod.COORDINATOR if actor.role == Role.COORDINATOR.value else AttendanceMethod.INSTRUCTOR
    )


def _require_staff(actor: Actor, meeting: Meeting) -> User:
    user = actor.user
    if user is None or not can_take_attendance(user, meeting.offering):
        raise AttendanceError("You do not take attendance for this offering.")
    return user


def _local_clock(meeting: Meeting, moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(meeting.offering.timezone)).strftime("%-I:%M %p").lower()


def open_checkin(actor: Actor, meeting: Meeting, now: datetime | None = None) -> CheckInWindow:
    """Open self check-in with a fresh secret (codes shown at an earlier opening stop working)."""
    begin_write()
    user = _require_staff(actor, meeting)
    now = _now(now)
    opens, closes = checkin_hours(meeting)
    if not opens <= now <= closes:
        raise AttendanceError(
            "Check-in can be opened from 30 minutes before the session starts until an hour after it ends."
        )
    window = checkin_window(meeting, lock=True)
    if window is not None and window.is_open:
        return window
    if window is None:
        window = CheckInWindow(
            meeting_id=meeting.id, secret=secrets.token_hex(32), opened_dt=now, opened_by_id=user.id
        )
        try:
            with db.session.begin_nested():
                db.session.add(window)
        except IntegrityError:  # opened at the same moment from another tab
            return checkin_window(meeting, lock=True)
    else:
        window.secret = secrets.token_hex(32)
        window.opened_dt, window.closed_dt, window.opened_by_id = now, None, user.id
    db.session.flush()
    record_event(
        actor,
        "checkin.open",
        "checkin_window",
        window.id,
        offering_id=meeting.offering_id,
        after={"meeting_id": meeting.id, "opened": _iso(now)},
    )
    return window


def close_checkin(actor: Actor, meeting: Meeting, now: datetime | None = None) -> CheckInWindow | None:
    """Close self check-in; codes stop working at once. Closing a closed window changes nothing."""
    begin_write()
    _require_staff(actor, meeting)
    now = _now(now)
    window = checkin_window(meeting, lock=True)
    if window is None or not window.is_open:
        return window
    window.closed_dt = now
    db.session.flush()
    record_event(
        actor,
        "checkin.close",
        "checkin_window",
        window.id,
        offering_id=meeting.offering_id,
        after={"meeting_id": meeting.id, "closed": _iso(now)},
    )
    return window


# --- self check-in -------------------------------------------------------------------------------


def self_check_in(
    actor: Actor,
    meeting: Meeting,
    code: str | None,
    ip: str | None,
    now: datetime | None = None,
    *,
    intent: CheckInIntent | None = None,
) -> CheckInOutcome:
    """A learner enters the code: the first entry signs in, a later one signs out.

    A wrong, expired or closed-window code records nothing. Repeating the sign-in (double click,
    several tabs, a stale form, within a minute) records nothing either: one sign-in, one record.
    """
    begin_write()
    now = _now(now)
    learner = actor.user
    enrolment = _enrolment(meeting.offering_id, learner.id) if learner is not None else None
    if enrolment is None or enrolment.status is EnrolmentStatus.WITHDRAWN:
        return CheckInOutcome.NOT_ENROLLED
    window = checkin_window(meeting)
    if not is_live(window, meeting, now):
        return CheckInOutcome.CLOSED
    typed = normalise(code)
    if not accepts(window.secret, typed, now, CHECKIN_PERIOD_SECONDS, window=1, digits=CODE_DIGITS):
        expired = accepts(
            window.secret,
            typed,
            now,
            CHECKIN_PERIOD_SECONDS,
            window=EXPIRED_LOOKBACK_PERIODS,
            digits=CODE_DIGITS,
        )
        return CheckInOutcome.EXPIRED_CODE if expired else CheckInOutcome.WRONG_CODE

    _enrolment(meeting.offering_id, learner.id, lock=True)  # serialise this learner's entries
    record = learner_record(meeting.id, learner.id, lock=True)
    if record is None:
        record = AttendanceRecord(
            meeting_id=meeting.id,
            user_id=learner.id,
            status=AttendanceStatus.LATE if now > meeting.start_dt + _SLACK else AttendanceStatus.PRESENT,
            arrived_dt=now,
            departed_dt=None,
            method=AttendanceMethod.CODE,
            code_used=typed,
            ip_address=_ip(ip),
            recorded_by_id=learner.id,
            created_dt=now,
            updated_dt=now,
        )
        try:
            with db.session.begin_nested():
                db.session.add(record)
        except IntegrityError:  # another request of this learner won the race
            return _repeat_outcome(learner_record(meeting.id, learner.id, lock=True), now, intent)
        _evidence(record, EvidenceKind.SIGN_IN, AttendanceMethod.CODE, now, learner, typed, ip)
        record_event(
            actor,
            "attendance.sign_in",
            "attendance",
            record.id,
            after={**snapshot(record), "method": AttendanceMethod.CODE.value, "code": typed},
            offering_id=meeting.offering_id,
            learner_id=learner.id,
        )
        return CheckInOutcome.SIGNED_IN

    repeat = _repeat_outcome(record, now, intent)
    if repeat is not None:
        return repeat
    before = snapshot(record)
    record.departed_dt = now
    if AttendanceStatus(record.status) is AttendanceStatus.PRESENT and now < meeting.end_dt - _SLACK:
        record.status = AttendanceStatus.LEFT_EARLY
    record.updated_dt = now
    _evidence(record, EvidenceKind.SIGN_OUT, AttendanceMethod.CODE, now, learner, typed, ip)
    record_event(
        actor,
        "attendance.sign_out",
        "attendance",
        record.id,
        before=before,
        after={**snapshot(record), "method": AttendanceMethod.CODE.value, "code": typed},
        offering_id=meeting.offering_id,
        learner_id=learner.id,
    )
    return CheckInOutcome.SIGNED_OUT


def _repeat_outcome(
    record: AttendanceRecord | None, now: datetime, intent: CheckInIntent | None
) -> CheckInOutcome | None:
    """The outcome of an entry that must write nothing, or None when it is a genuine sign-out."""
    if record is None:  # pragma: no cover - the unique constraint fired, so the row exists
        return CheckInOutcome.ALREADY_SIGNED_IN
    if record.method is not AttendanceMethod.CODE or record.arrived_dt is None:
        return CheckInOutcome.ALREADY_RECORDED
    if record.departed_dt is not None:
        return CheckInOutcome.ALREADY_SIGNED_OUT
    if intent is CheckInIntent.SIGN_IN or now - record.arrived_dt < DUPLICATE_WINDOW:
        return CheckInOutcome.ALREADY_SIGNED_IN
    return None


def _ip(ip: str | None) -> str | None:
    return ip[:64] if ip else None


def _evidence(
    record: AttendanceRecord,
    kind: EvidenceKind,
    method: AttendanceMethod,
    now: datetime,
    actor_user: User | None,
    code: str | None = None,
    ip: str | None = None,
) -> AttendanceEvidence:
    evidence = AttendanceEvidence(
        record_id=record.id,
        kind=kind,
        method=method,
        at_dt=now,
        code_used=code,
        ip_address=_ip(ip),
        actor_id=actor_user.id if actor_user is not None else None,
    )
    db.session.add(evidence)
    db.session.flush()
    return evidence


# --- marks and corrections -----------------------------------------------------------------------


def resolve_times(
    meeting: Meeting, status: AttendanceStatus, arrived: datetime | None, departed: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """The times a mark records: present = the whole meeting, explicitly; absent/excused = none."""
    status = AttendanceStatus(status)
    for moment in (arrived, departed):
        if moment is not None and (moment.tzinfo is None or moment.utcoffset() is None):
            raise ValueError("arrival and departure must be timezone-aware")
    if status in (AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED):
        if arrived is not None or departed is not None:
            raise AttendanceError("Absent and excused marks have no arrival or departure time.")
        return None, None
    if status is AttendanceStatus.PRESENT:
        if (arrived, departed) not in ((None, None), (meeting.start_dt, meeting.end_dt)):
            raise AttendanceError(
                "Present means the whole meeting. For other times choose “late” or “left early”."
            )
        return meeting.start_dt, meeting.end_dt
    if status is AttendanceStatus.LATE:
        if arrived is None:
            raise AttendanceError("A late mark needs the arrival time.")
        if arrived <= meeting.start_dt:
            raise AttendanceError(
                f"A late arrival is after the start ({_local_clock(meeting, meeting.start_dt)})."
            )
        departed = departed if departed is not None else meeting.end_dt
    if status is AttendanceStatus.LEFT_EARLY:
        if departed is None:
            raise AttendanceError("A left-early mark needs the departure time.")
        if departed >= meeting.end_dt:
            raise AttendanceError(
                f"Leaving early means before the end ({_local_clock(meeting, meeting.end_dt)})."
            )
        arrived = arrived if arrived is not None else meeting.start_dt
    if departed <= arrived:
        raise AttendanceError("The departure must be after the arrival.")
    slack = timedelta(hours=12)
    if arrived < meeting.start_dt - slack or departed > meeting.end_dt + slack:
        raise AttendanceError("Arrival and departure must be on the day of the meeting.")
    return arrived, departed


def _clean_reason(reason: str | None) -> str | None:
    cleaned = (reason or "").strip()
    if len(cleaned) > MAX_REASON_CHARS:
        raise AttendanceError(f"Please keep the reason under {MAX_REASON_CHARS} characters.")
    return cleaned or None


def _require_started(meeting: Meeting, status: AttendanceStatus, now: datetime) -> None:
    if status in ATTENDED_STATUSES and now < meeting.start_dt - OPENS_BEFORE_START:
        raise AttendanceError(
            "This session has not started yet. Absent or excused can be recorded in advance; "
            "presence only from 30 minutes before the start."
        )


def mark(
    actor: Actor,
    meeting: Meeting,
    learner: User,
    status: AttendanceStatus,
    arrived: datetime | None,
    departed: datetime | None,
    reason: str | None = None,
    *,
    now: datetime | None = None,
) -> MarkResult:
    """Record one learner's attendance; a change to a saved record needs a reason and is audited.

    Saving the same values again changes nothing and needs no reason.
    """
    begin_write()
    staff = _require_staff(actor, meeting)
    status = AttendanceStatus(status)
    now = _now(now)
    reason = _clean_reason(reason)
    arrived, departed = resolve_times(meeting, status, arrived, departed)
    _require_started(meeting, status, now)
    if _enrolment(meeting.offering_id, learner.id, lock=True) is None:
        raise AttendanceError(f"{learner.full_name} is not enrolled in this offering.")
    method = staff_method(actor)
    record = learner_record(meeting.id, learner.id, lock=True)
    if record is None:
        created = _create_mark(actor, staff, meeting, learner, status, arrived, departed, method, now, reason)
        if created is not None:
            return MarkResult(created, MarkChange.CREATED)
        record = learner_record(meeting.id, learner.id, lock=True)  # saved a moment ago by someone else

    before = snapshot(record)
    after = {"status": status.value, "arrived": _iso(arrived), "departed": _iso(departed)}
    if before == after:
        return MarkResult(record, MarkChange.UNCHANGED)
    if reason is None:
        raise AttendanceError(
            f"{learner.full_name}'s attendance was already saved: give a reason for the change."
        )
    record.status, record.arrived_dt, record.departed_dt = status, arrived, departed
    record.method, record.recorded_by_id, record.updated_dt = method, staff.id, now
    _evidence(record, EvidenceKind.CORRECTION, method, now, staff, ip=actor.ip_address)
    record_event(
        actor,
        "attendance.correct",
        "attendance",
        record.id,
        before=before,
        after={**after, "method": method.value},
        reason=reason,
        offering_id=meeting.offering_id,
        learner_id=learner.id,
    )
    return MarkResult(record, MarkChange.CORRECTED)


def _create_mark(
    actor: Actor,
    staff: User,
    meeting: Meeting,
    learner: User,
    status: AttendanceStatus,
    arrived: datetime | None,
    departed: datetime | None,
    method: AttendanceMethod,
    now: datetime,
    reason: str | None,
) -> AttendanceRecord | None:
    """Insert a first mark (evidence + audit), or None if a record appeared in the meantime."""
    record = AttendanceRecord(
        meeting_id=meeting.id,
        user_id=learner.id,
        status=status,
        arrived_dt=arrived,
        departed_dt=departed,
        method=method,
        recorded_by_id=staff.id,
        created_dt=now,
        updated_dt=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(record)
    except IntegrityError:
        return None
    _evidence(record, EvidenceKind.MARK, method, now, staff, ip=actor.ip_address)
    record_event(
        actor,
        "attendance.mark",
        "attendance",
        record.id,
        after={**snapshot(record), "method": method.value},
        reason=reason,
        offering_id=meeting.offering_id,
        learner_id=learner.id,
    )
    return record


def mark_all_present(actor: Actor, meeting: Meeting, *, now: datetime | None = None) -> AllPresentResult:
    """Mark every active learner without a mark present for the whole meeting; saved marks stay."""
    begin_write()
    staff = _require_staff(actor, meeting)
    now = _now(now)
    _require_started(meeting, AttendanceStatus.PRESENT, now)
    method = staff_method(actor)
    enrolments = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.offering_id == meeting.offering_id, Enrolment.status != EnrolmentStatus.WITHDRAWN)
        .order_by(Enrolment.id)
        .with_for_update()
    ).all()
    existing = set(
        db.session.scalars(select(AttendanceRecord.user_id).where(AttendanceRecord.meeting_id == meeting.id))
    )
    result = AllPresentResult()
    for enrolment in enrolments:
        if enrolment.user_id in existing:
            result.unchanged += 1
            continue
        record = _create_mark(
            actor,
            staff,
            meeting,
            enrolment.user,
            AttendanceStatus.PRESENT,
            meeting.start_dt,
            meeting.end_dt,
            method,
            now,
            None,
        )
        if record is None:
            result.unchanged += 1
        else:
            result.marked.append(record)
    return result
