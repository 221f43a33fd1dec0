"""Taking attendance: instructor marks, corrections with a reason, and the record helpers check-in shares.

Attendance is the only source of CE contact hours, so every write here leaves a trace: an
``AttendanceEvidence`` row (how, when, which code, from where, by whom) and an audit event in the
same transaction. The first save of a learner's record is a mark (or a sign-in); any later change
by staff is a correction that needs a reason and is audited with before and after. Nothing is
overwritten without a trace.

Self check-in with rotating codes (windows, codes, sign-in and sign-out) is in
``operations/checkin.py``; it writes the same records through the helpers here (``learner_record``,
``add_evidence``, ``snapshot``, ``require_staff`` …). This module never imports it.

Exactly-once: the unique (meeting, learner) constraint is the invariant. Writers first lock the
learner's enrolment row (PostgreSQL ``FOR UPDATE``; SQLite writes already hold the database lock
through ``BEGIN IMMEDIATE``), then lock the record, and insert inside a SAVEPOINT so a lost race
becomes "already there" instead of an error.

Like every operation: takes the actor and plain data, flushes, audits, never commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..database import begin_write, locked
from ..extensions import db
from ..models.accounts import User
from ..models.attendance import AttendanceEvidence, AttendanceMethod, AttendanceRecord, EvidenceKind
from ..models.audit_chain import Actor, record_event
from ..models.offerings import Enrolment, EnrolmentStatus, Meeting
from ..models.types import utcnow
from ..rules.credit import AttendanceStatus
from ..security.access import can_take_attendance
from ..security.roles import Role
from ..xapi import producers as xapi

#: presence can be recorded (and check-in opened, see operations/checkin.py) from this long before the start
OPENS_BEFORE_START = timedelta(minutes=30)
MAX_REASON_CHARS = 500
ATTENDED_STATUSES = frozenset({AttendanceStatus.PRESENT, AttendanceStatus.LATE, AttendanceStatus.LEFT_EARLY})


class AttendanceError(ValueError):
    """A clear reason an attendance change was refused (nothing was written)."""


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
        "arrived": iso_utc(record.arrived_dt),
        "departed": iso_utc(record.departed_dt),
    }


def iso_utc(value: datetime | None) -> str | None:
    """A datetime as audited: UTC ISO 8601, or None."""
    return value.astimezone(UTC).isoformat() if value is not None else None


def learner_record(meeting_id: int, user_id: int, *, lock: bool = False) -> AttendanceRecord | None:
    query = select(AttendanceRecord).where(
        AttendanceRecord.meeting_id == meeting_id, AttendanceRecord.user_id == user_id
    )
    if lock:
        query = locked(query)
    return db.session.scalar(query)


def enrolment_of(offering_id: int, user_id: int, *, lock: bool = False) -> Enrolment | None:
    """The learner's enrolment (any status); ``lock`` serialises that learner's attendance writes."""
    query = select(Enrolment).where(Enrolment.offering_id == offering_id, Enrolment.user_id == user_id)
    if lock:
        query = locked(query)
    return db.session.scalar(query)


def needs_departure(record: AttendanceRecord | None) -> bool:
    """Signed in (or arrival recorded) but no departure: credits nothing, so the roster flags it."""
    return (
        record is not None
        and AttendanceStatus(record.status) in ATTENDED_STATUSES
        and record.arrived_dt is not None
        and record.departed_dt is None
    )


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


def normalise_now(now: datetime | None) -> datetime:
    """``now`` (or the current time) in UTC to the second; naive datetimes are refused."""
    moment = now if now is not None else utcnow()
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return moment.astimezone(UTC).replace(microsecond=0)


# --- shared by marks and check-in ----------------------------------------------------------------


def require_staff(actor: Actor, meeting: Meeting) -> User:
    """The acting user, if they take attendance for ``meeting``'s offering; AttendanceError otherwise."""
    user = actor.user
    if user is None or not can_take_attendance(user, meeting.offering):
        raise AttendanceError("You do not take attendance for this offering.")
    return user


def stored_ip(ip: str | None) -> str | None:
    """An address as stored (the column holds 64 characters)."""
    return ip[:64] if ip else None


def add_evidence(
    record: AttendanceRecord,
    kind: EvidenceKind,
    method: AttendanceMethod,
    now: datetime,
    actor_user: User | None,
    code: str | None = None,
    ip: str | None = None,
) -> AttendanceEvidence:
    """One piece of evidence for ``record``: how, when, which code, from where, by whom."""
    evidence = AttendanceEvidence(
        record_id=record.id,
        kind=kind,
        method=method,
        at_dt=now,
        code_used=code,
        ip_address=stored_ip(ip),
        actor_id=actor_user.id if actor_user is not None else None,
    )
    db.session.add(evidence)
    db.session.flush()
    return evidence


# --- marks and corrections -----------------------------------------------------------------------


def staff_method(actor: Actor) -> AttendanceMethod:
    """Coordinators' changes are coordinator corrections; everyone else acts as instructor."""
    return (
        AttendanceMethod.COORDINATOR if actor.role == Role.COORDINATOR.value else AttendanceMethod.INSTRUCTOR
    )


def _local_clock(meeting: Meeting, moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(meeting.offering.timezone)).strftime("%-I:%M %p").lower()


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
    staff = require_staff(actor, meeting)
    status = AttendanceStatus(status)
    now = normalise_now(now)
    reason = _clean_reason(reason)
    arrived, departed = resolve_times(meeting, status, arrived, departed)
    _require_started(meeting, status, now)
    if enrolment_of(meeting.offering_id, learner.id, lock=True) is None:
        raise AttendanceError(f"{learner.full_name} is not enrolled in this offering.")
    method = staff_method(actor)
    record = learner_record(meeting.id, learner.id, lock=True)
    if record is None:
        created = _create_mark(actor, staff, meeting, learner, status, arrived, departed, method, now, reason)
        if created is not None:
            return MarkResult(created, MarkChange.CREATED)
        record = learner_record(meeting.id, learner.id, lock=True)  # saved a moment ago by someone else

    before = snapshot(record)
    after = {"status": status.value, "arrived": iso_utc(arrived), "departed": iso_utc(departed)}
    if before == after:
        return MarkResult(record, MarkChange.UNCHANGED)
    if reason is None:
        raise AttendanceError(
            f"{learner.full_name}'s attendance was already saved: give a reason for the change."
        )
    record.status, record.arrived_dt, record.departed_dt = status, arrived, departed
    record.method, record.recorded_by_id, record.updated_dt = method, staff.id, now
    add_evidence(record, EvidenceKind.CORRECTION, method, now, staff, ip=actor.ip_address)
    event = record_event(
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
    xapi.on_attendance(record, meeting, learner, event.id)
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
    add_evidence(record, EvidenceKind.MARK, method, now, staff, ip=actor.ip_address)
    event = record_event(
        actor,
        "attendance.mark",
        "attendance",
        record.id,
        after={**snapshot(record), "method": method.value},
        reason=reason,
        offering_id=meeting.offering_id,
        learner_id=learner.id,
    )
    xapi.on_attendance(record, meeting, learner, event.id)
    return record


def mark_all_present(actor: Actor, meeting: Meeting, *, now: datetime | None = None) -> AllPresentResult:
    """Mark every active learner without a mark present for the whole meeting; saved marks stay."""
    begin_write()
    staff = require_staff(actor, meeting)
    now = normalise_now(now)
    _require_started(meeting, AttendanceStatus.PRESENT, now)
    method = staff_method(actor)
    enrolments = db.session.scalars(
        locked(
            select(Enrolment)
            .where(
                Enrolment.offering_id == meeting.offering_id, Enrolment.status != EnrolmentStatus.WITHDRAWN
            )
            .order_by(Enrolment.id)
        )
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
