"""Mail that no single event causes: the day-before meeting reminder and "no sign-out recorded".

``flask imh outbox reminders`` (and the worker loop, every IMH_REMINDER_SCAN_SECONDS) calls
:func:`queue_scheduled`. Each message carries a dedupe key (``imh_course.rules.reminders``) that the
outbox holds unique, so running the scan twice, or in two workers at once, queues each message
once: on SQLite the scan holds the write lock from its first read (the second scan waits, then
sees the keys); on PostgreSQL a concurrent insert of the same key waits for the other transaction
and then fails inside a savepoint, which skips that one message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..database import begin_write
from ..extensions import db
from ..meeting_calendar import meetings_ics
from ..models.accounts import User
from ..models.attendance import AttendanceRecord
from ..models.offerings import Enrolment, EnrolmentStatus, Meeting, Offering
from ..models.outbox import OutboxMessage
from ..models.types import utcnow
from ..operations.attendance import ATTENDED_STATUSES
from ..records.certificate_facts import learner_ce_standing
from ..rules.credit import AttendanceStatus
from ..rules.reminders import (
    SIGN_OUT_LOOKBACK,
    reminder_due,
    reminder_key,
    sign_out_key,
    sign_out_missing,
)
from ..templating import local_time_range
from . import messages
from .notify import _site, external_url
from .outbox import enqueue


@dataclass
class ScanReport:
    reminders: int = 0
    sign_outs: int = 0


def _calendar_host() -> str:
    """The host in calendar UIDs: IMH_BASE_URL's, as the learner's .ics download sees it."""
    base = current_app.config.get("IMH_BASE_URL") or ""
    return urlsplit(base).hostname or "imh-course"


def _reachable(user: User) -> bool:
    return user.is_enabled and user.erased_dt is None


def _queue_once(key: str, message: EmailMessage, kind: str, user_id: int, existing: set[str]) -> bool:
    """Enqueue ``message`` under ``key`` unless a message with that key exists; True if queued."""
    try:
        with db.session.begin_nested():
            enqueue(message, kind, user_id, dedupe_key=key)
    except IntegrityError:  # queued meanwhile by a concurrent scan (PostgreSQL)
        return False
    existing.add(key)
    return True


def _existing(keys: set[str]) -> set[str]:
    if not keys:
        return set()
    return set(db.session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys))))


def queue_reminders(now: datetime) -> int:
    """Queue tomorrow's meeting reminders for every active enrolment whose learner wants them."""
    rows = db.session.execute(
        select(Meeting, Enrolment.user_id)
        .join(Enrolment, (Enrolment.offering_id == Meeting.offering_id))
        .join(User, User.id == Enrolment.user_id)
        .where(
            Enrolment.status == EnrolmentStatus.ACTIVE,
            User.meeting_reminders.is_(True),
            Meeting.start_dt > now,
            Meeting.start_dt < now + timedelta(hours=50),  # a superset; the rule decides
        )
        .options(selectinload(Meeting.session), selectinload(Meeting.offering).selectinload(Offering.course))
        .order_by(Meeting.start_dt, Enrolment.user_id)
    ).all()
    due = [(m, uid) for m, uid in rows if reminder_due(m.start_dt, now, m.offering.timezone)]
    existing = _existing({reminder_key(m.id, uid) for m, uid in due})
    host = _calendar_host()
    queued = 0
    for meeting, user_id in due:
        key = reminder_key(meeting.id, user_id)
        user = db.session.get(User, user_id)
        if key in existing or user is None or not _reachable(user):
            continue
        offering = meeting.offering
        session = f"Session {meeting.session.number}: {meeting.session.title}"
        message = messages.meeting_reminder(
            _site(offering),
            name=user.full_name,
            address=user.email,
            offering=offering.label,
            session=session,
            when=local_time_range(meeting.start_dt, meeting.end_dt, offering.timezone),
            where=offering.location or offering.meeting_url,
            ics=meetings_ics(offering, [meeting], host).encode("utf-8"),
            filename=f"imh-session-{meeting.session.number}.ics",
            profile=external_url("imh.profile"),
            certifiable=learner_ce_standing(user, offering).certifiable,
        )
        queued += _queue_once(key, message, "meeting_reminder", user_id, existing)
    return queued


def queue_sign_out_notices(now: datetime) -> int:
    """Queue "no sign-out recorded" to each learner signed in but not out of a recently ended meeting."""
    rows = db.session.execute(
        select(AttendanceRecord, Meeting)
        .join(Meeting, Meeting.id == AttendanceRecord.meeting_id)
        .join(
            Enrolment,
            (Enrolment.offering_id == Meeting.offering_id) & (Enrolment.user_id == AttendanceRecord.user_id),
        )
        .where(
            Enrolment.status != EnrolmentStatus.WITHDRAWN,
            AttendanceRecord.arrived_dt.is_not(None),
            AttendanceRecord.departed_dt.is_(None),
            Meeting.end_dt <= now,
            Meeting.end_dt >= now - SIGN_OUT_LOOKBACK,
        )
        .options(selectinload(Meeting.session), selectinload(Meeting.offering).selectinload(Offering.course))
        .order_by(Meeting.end_dt, AttendanceRecord.user_id)
    ).all()
    due = [
        (record, meeting)
        for record, meeting in rows
        if sign_out_missing(
            meeting.end_dt,
            record.arrived_dt,
            record.departed_dt,
            now,
            attended=AttendanceStatus(record.status) in ATTENDED_STATUSES,
        )
    ]
    existing = _existing({sign_out_key(m.id, r.user_id) for r, m in due})
    queued = 0
    for record, meeting in due:
        key = sign_out_key(meeting.id, record.user_id)
        user = db.session.get(User, record.user_id)
        if key in existing or user is None or not _reachable(user):
            continue
        offering = meeting.offering
        message = messages.no_sign_out(
            _site(offering),
            name=user.full_name,
            address=user.email,
            offering=offering.label,
            session=f"Session {meeting.session.number}: {meeting.session.title}",
            when=local_time_range(meeting.start_dt, meeting.end_dt, offering.timezone),
            link=external_url("imh.transcript", offering_id=offering.id),
            certifiable=learner_ce_standing(user, offering).certifiable,
        )
        queued += _queue_once(key, message, "no_sign_out", user.id, existing)
    return queued


def queue_scheduled(now: datetime | None = None) -> ScanReport:
    """One scan, in one transaction of its own (committed): both kinds, each message at most once."""
    moment = now or utcnow()
    begin_write()  # SQLite: a concurrent scan waits here and then sees this one's keys
    try:
        report = ScanReport(reminders=queue_reminders(moment), sign_outs=queue_sign_out_notices(moment))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report
