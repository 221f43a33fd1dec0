"""Valid certificates whose records changed since issue ("reissue needed"), with the audited changes.

For one offering: the completion matrix rows (the same ledger every page shows, 12 statements) give
what a certificate issued now would certify; one statement reads the snapshots of the valid
certificates, and one the audit events since the earliest of them was issued (attendance of the
stale learners, their profile, the offering's meetings and approvals, and the certificates' own
issue events, which mark where each learner's changes begin). That is 14 statements whatever the
number of learners or events: staff pages call this on every request.

Nothing is written and nothing the learner sees changes: the coordinator decides to reissue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, and_, cast, or_, select

from ..extensions import db
from ..models.accounts import User
from ..models.attendance import AttendanceRecord
from ..models.audit import AuditEvent
from ..models.certificates import Certificate, CertificateStatus
from ..models.offerings import Offering
from ..models.types import utcnow
from ..reports.matrix import LearnerRow
from ..reports.matrix_data import load_matrix
from ..rules.licenses import BOARD_LABELS, Board
from ..rules.staleness import CertifiedRecord, Staleness, staleness

OFFERING_ACTIONS = ("meeting.update", "meeting.schedule", "offering.update")
ATTENDANCE_ACTIONS = ("attendance.mark", "attendance.correct", "attendance.sign_in", "attendance.sign_out")
PROFILE_ACTIONS = ("profile.update", "profile.license_change_after_certificate")
ISSUE_ACTIONS = ("certificate.issue", "certificate.reissue")
ACTION_LABELS = {
    "attendance.mark": "Attendance recorded",
    "attendance.correct": "Attendance corrected",
    "attendance.sign_in": "Signed in",
    "attendance.sign_out": "Signed out",
    "meeting.update": "Meeting changed",
    "meeting.schedule": "Meetings scheduled",
    "offering.update": "Offering details or approvals changed",
    "profile.update": "Profile changed",
    "profile.license_change_after_certificate": "License changed after the certificate",
}
LICENSE_FIELDS = {
    "license_type": "license type",
    "license_number": "license number",
    "license_state": "state",
}


@dataclass(frozen=True)
class Change:
    """One audited change since the certificate was issued."""

    event_id: int
    occurred_dt: datetime
    action: str
    text: str  # "Attendance corrected, session 3: present → late (arrived 6:10 PM)"
    actor: str
    reason: str | None


@dataclass(frozen=True)
class StaleCertificate:
    """A valid certificate that no longer says what the records say."""

    offering_id: int
    offering_label: str
    user_id: int
    learner_name: str
    public_id: str
    version: int
    issued_dt: datetime
    staleness: Staleness
    changes: tuple[Change, ...]

    @property
    def summary(self) -> str:
        return self.staleness.summary

    @property
    def sentence(self) -> str:
        return self.staleness.sentence


def _valid_snapshots(offering_id: int) -> dict[int, tuple[int, str, int, datetime, dict[str, Any]]]:
    """user id -> (certificate id, public id, version, issued, facts) of the valid certificates."""
    return {
        user_id: (cid, public_id, version, issued, facts)
        for cid, user_id, public_id, version, issued, facts in db.session.execute(
            select(
                Certificate.id,
                Certificate.user_id,
                Certificate.public_id,
                Certificate.version,
                Certificate.issued_dt,
                Certificate.facts,
            ).where(Certificate.offering_id == offering_id, Certificate.status == CertificateStatus.VALID)
        )
    }


def _time(value: str | None, zone: ZoneInfo) -> str:
    if not value:
        return "none"
    return datetime.fromisoformat(value).astimezone(zone).strftime("%-I:%M %p")


def _attendance_text(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, zone: ZoneInfo
) -> str:
    after = after or {}
    parts = []
    status_after = str(after.get("status", "")).replace("_", " ")
    if before and before.get("status") != after.get("status"):
        parts.append(f"{str(before.get('status', '')).replace('_', ' ')} → {status_after}")
    elif status_after:
        parts.append(status_after)
    for key, label in (("arrived", "arrived"), ("departed", "left")):
        if (before is None or before.get(key) != after.get(key)) and (after.get(key) or before):
            parts.append(f"{label} {_time(after.get(key), zone)}")
    return ", ".join(parts)


def describe(event: AuditEvent, session_number: int | None, zone: ZoneInfo) -> str:
    """A change in a coordinator's words, from the event's before/after values."""
    label = ACTION_LABELS.get(event.action, event.action)
    where = f", session {session_number}" if session_number else ""
    before, after = event.before or {}, event.after or {}
    if event.action.startswith("attendance."):
        detail = _attendance_text(event.before, event.after, zone)
        return f"{label}{where}: {detail}" if detail else f"{label}{where}"
    if event.action == "meeting.update":
        parts = []
        if before.get("start") != after.get("start") or before.get("end") != after.get("end"):
            parts.append(
                f"{_time(before.get('start'), zone)}–{_time(before.get('end'), zone)} → "
                f"{_time(after.get('start'), zone)}–{_time(after.get('end'), zone)}"
            )
        if before.get("ce_eligible") != after.get("ce_eligible"):
            parts.append("now CE-eligible" if after.get("ce_eligible") else "no longer CE-eligible")
        return f"{label}{where}: {'; '.join(parts)}" if parts else f"{label}{where}"
    if event.action.startswith("profile."):
        changed = [
            f"{name} {before.get(key) or 'none'} → {after.get(key) or 'none'}"
            for key, name in LICENSE_FIELDS.items()
            if before.get(key) != after.get(key)
        ]
        return f"{label}: {'; '.join(changed)}" if changed else label
    if event.action == "offering.update" and before.get("approvals") != after.get("approvals"):
        was, now = _approvals_text(before.get("approvals")), _approvals_text(after.get("approvals"))
        return f"{label}: approvals {was} → {now}"
    return label


def _approvals_text(approvals: object) -> str:
    """An audited approvals value ({board: provider number}) in board names: "NYS State Board for
    Social Work (SW-0057)"; "none" when the offering held none."""
    if not isinstance(approvals, Mapping) or not approvals:
        return "none"
    parts = []
    for board, number in sorted(approvals.items()):
        try:
            name = BOARD_LABELS[Board(board)]
        except ValueError:
            name = str(board)
        parts.append(f"{name} ({number})" if number else name)
    return ", ".join(parts)


def _events(
    offering_id: int,
    snapshots: Mapping[int, tuple[int, str, int, datetime, dict[str, Any]]],
    stale: Sequence[int],
) -> list[tuple[AuditEvent, str | None, int | None]]:
    """(event, actor name, meeting id of an attendance record) since the earliest stale issue, by id.

    One statement, run even when nothing is stale (the page's statements do not depend on the data).
    """
    since = min((snapshots[uid][3] for uid in stale), default=None)
    certificate_ids = [str(snapshots[uid][0]) for uid in stale]
    query = (
        select(AuditEvent, User.full_name, AttendanceRecord.meeting_id)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .outerjoin(
            AttendanceRecord,
            and_(
                AuditEvent.entity_type == "attendance",
                cast(AttendanceRecord.id, String) == AuditEvent.entity_id,
            ),
        )
        .where(
            or_(
                and_(AuditEvent.offering_id == offering_id, AuditEvent.action.in_(OFFERING_ACTIONS)),
                and_(
                    AuditEvent.offering_id == offering_id,
                    AuditEvent.learner_id.in_(stale),
                    AuditEvent.action.in_(ATTENDANCE_ACTIONS),
                ),
                and_(AuditEvent.learner_id.in_(stale), AuditEvent.action.in_(PROFILE_ACTIONS)),
                and_(
                    AuditEvent.entity_type == "certificate",
                    AuditEvent.entity_id.in_(certificate_ids),
                    AuditEvent.action.in_(ISSUE_ACTIONS),
                ),
            ),
            # events are stamped to the second: a second's margin, the issue event then decides
            AuditEvent.occurred_dt >= (since or utcnow()) - timedelta(seconds=1),
        )
        .order_by(AuditEvent.id)
    )
    return [(event, actor, meeting_id) for event, actor, meeting_id in db.session.execute(query)]


def _changes_by_learner(
    session_of_meeting: Mapping[int, int],
    zone: ZoneInfo,
    snapshots: Mapping[int, tuple[int, str, int, datetime, dict[str, Any]]],
    stale: Sequence[int],
    events: Iterable[tuple[AuditEvent, str | None, int | None]],
) -> dict[int, list[Change]]:
    """Each stale learner's changes after their certificate's issue event (the offering's for all)."""
    by_certificate = {str(snapshots[uid][0]): uid for uid in stale}
    start: dict[int, int] = {}
    changes: dict[int, list[Change]] = {uid: [] for uid in stale}
    for event, actor, meeting_id in events:
        if event.entity_type == "certificate":
            owner = by_certificate.get(event.entity_id or "")
            if owner is not None:
                start[owner] = event.id
                changes[owner] = []  # what happened before this version was issued is not a change
            continue
        if event.action == "meeting.update":
            meeting_id = int(event.entity_id) if (event.entity_id or "").isdigit() else None
        number = session_of_meeting.get(meeting_id) if meeting_id else None
        change = Change(
            event_id=event.id,
            occurred_dt=event.occurred_dt,
            action=event.action,
            text=describe(event, number, zone),
            actor=actor or "system",
            reason=event.reason,
        )
        owners = [event.learner_id] if event.learner_id in changes else [] if event.learner_id else stale
        for uid in owners:
            issued = snapshots[uid][3]
            if uid in start or event.occurred_dt >= issued.replace(microsecond=0):
                changes[uid].append(change)
    return changes


def stale_certificates(
    offering: Offering, rows: Sequence[LearnerRow] | None = None
) -> dict[int, StaleCertificate]:
    """The offering's stale valid certificates by learner id, each with its differences and changes.

    ``rows``: the offering's matrix rows when the caller has them already (no second load).
    """
    rows = load_matrix(offering).rows if rows is None else rows
    frame_rows = {row.user_id: row for row in rows}
    snapshots = _valid_snapshots(offering.id)
    found: dict[int, Staleness] = {}
    for uid, (_cid, _public, _version, _issued, facts) in snapshots.items():
        row = frame_rows.get(uid)
        certified = CertifiedRecord.from_facts(facts)
        if row is None or certified is None:
            continue
        result = staleness(certified, row.record_now)
        if result.stale:
            found[uid] = result
    stale = sorted(found)
    events = _events(offering.id, snapshots, stale)
    layout = rows[0].layout if rows else None
    sessions = (
        {mid: s.number for s, mid in zip(layout.sessions, layout.meeting_ids, strict=True) if mid}
        if layout
        else {}
    )
    changes = _changes_by_learner(sessions, ZoneInfo(offering.timezone), snapshots, stale, events)
    return {
        uid: StaleCertificate(
            offering_id=offering.id,
            offering_label=offering.label,
            user_id=uid,
            learner_name=frame_rows[uid].learner.name,
            public_id=snapshots[uid][1],
            version=snapshots[uid][2],
            issued_dt=snapshots[uid][3],
            staleness=found[uid],
            changes=tuple(changes.get(uid, ())),
        )
        for uid in sorted(stale, key=lambda u: frame_rows[u].learner.name.casefold())
    }
