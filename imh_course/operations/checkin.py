"""Self check-in: staff open and close a meeting's check-in window; learners sign in and out with a code.

Split from ``operations/attendance.py`` (the house's ~400-line rule) because check-in is its own
responsibility: a window with a secret, rotating codes derived from it (``checkin_codes.py``), and
a learner's code entry that becomes a sign-in or a sign-out. The record it writes is the same
``AttendanceRecord`` that staff mark, so the shared pieces (record lookup, evidence, snapshots,
``AttendanceError``) live in ``operations/attendance.py`` and are imported from there; attendance
never imports this module.

Exactly-once works as described there: lock the learner's enrolment, then the record, and insert
inside a SAVEPOINT so a lost race becomes "already signed in" instead of an error. A wrong, expired
or closed-window code writes nothing.

Like every operation: takes the actor and plain data, flushes, audits, never commits.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..database import begin_write, locked
from ..extensions import db
from ..models.attendance import AttendanceMethod, AttendanceRecord, CheckInWindow, EvidenceKind
from ..models.audit_chain import Actor, record_event
from ..models.offerings import EnrolmentStatus, Meeting
from ..rules.checkin_codes import accepts, code_for, normalise
from ..rules.credit import AttendanceStatus
from ..xapi import producers as xapi
from .attendance import (
    OPENS_BEFORE_START,
    AttendanceError,
    add_evidence,
    enrolment_of,
    iso_utc,
    learner_record,
    normalise_now,
    require_staff,
    snapshot,
    stored_ip,
)

#: a fresh code every two minutes; the previous one is still accepted (a code read just in time)
CHECKIN_PERIOD_SECONDS = 120
CODE_DIGITS = 6
#: codes stop working this long after the end, even if nobody closed check-in
#: (they start working ``OPENS_BEFORE_START`` before the start: see operations/attendance.py)
CLOSES_AFTER_END = timedelta(minutes=60)
#: how far back a typed code is recognised as "expired" rather than "wrong" (one hour of codes)
EXPIRED_LOOKBACK_PERIODS = 30
#: a second entry this soon after signing in is a double submission, not a sign-out
DUPLICATE_WINDOW = timedelta(seconds=60)
_SLACK = timedelta(minutes=1)  # under a minute past the start is not "late"


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


# --- reading -------------------------------------------------------------------------------------


def checkin_hours(meeting: Meeting) -> tuple[datetime, datetime]:
    """When check-in may be open for ``meeting``: shortly before the start until a while after the end."""
    return meeting.start_dt - OPENS_BEFORE_START, meeting.end_dt + CLOSES_AFTER_END


def checkin_window(meeting: Meeting, *, lock: bool = False) -> CheckInWindow | None:
    query = select(CheckInWindow).where(CheckInWindow.meeting_id == meeting.id)
    if lock:
        query = locked(query)
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


# --- check-in window -----------------------------------------------------------------------------


def open_checkin(actor: Actor, meeting: Meeting, now: datetime | None = None) -> CheckInWindow:
    """Open self check-in with a fresh secret (codes shown at an earlier opening stop working)."""
    begin_write()
    user = require_staff(actor, meeting)
    now = normalise_now(now)
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
        after={"meeting_id": meeting.id, "opened": iso_utc(now)},
    )
    return window


def close_checkin(actor: Actor, meeting: Meeting, now: datetime | None = None) -> CheckInWindow | None:
    """Close self check-in; codes stop working at once. Closing a closed window changes nothing."""
    begin_write()
    require_staff(actor, meeting)
    now = normalise_now(now)
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
        after={"meeting_id": meeting.id, "closed": iso_utc(now)},
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
    now = normalise_now(now)
    learner = actor.user
    enrolment = enrolment_of(meeting.offering_id, learner.id) if learner is not None else None
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

    enrolment_of(meeting.offering_id, learner.id, lock=True)  # serialise this learner's entries
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
            ip_address=stored_ip(ip),
            recorded_by_id=learner.id,
            created_dt=now,
            updated_dt=now,
        )
        try:
            with db.session.begin_nested():
                db.session.add(record)
        except IntegrityError:  # another request of this learner won the race
            return _repeat_outcome(learner_record(meeting.id, learner.id, lock=True), now, intent)
        add_evidence(record, EvidenceKind.SIGN_IN, AttendanceMethod.CODE, now, learner, typed, ip)
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
    add_evidence(record, EvidenceKind.SIGN_OUT, AttendanceMethod.CODE, now, learner, typed, ip)
    event = record_event(
        actor,
        "attendance.sign_out",
        "attendance",
        record.id,
        before=before,
        after={**snapshot(record), "method": AttendanceMethod.CODE.value, "code": typed},
        offering_id=meeting.offering_id,
        learner_id=learner.id,
    )
    xapi.on_attendance(record, meeting, learner, event.id)
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
