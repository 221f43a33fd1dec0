"""Crediting a live online meeting from the video platform's participant report.

``apply_import`` applies what ``participant_preview.preview_import`` found, in ONE transaction,
under the meeting's row lock (PostgreSQL ``FOR UPDATE`` with a refreshed read; SQLite writers hold
the database lock): the file is stored content-addressed, the import row (unique per meeting and
sha256) makes a second import of the same file "already applied", and every learner's record gets
evidence of method "video platform report" with the import (file name, sha256) and the intervals.
A record that already had a mark changes only as a correction with the importer's reason. Audited
like every attendance change; names chosen on the matching screen can be remembered for the
offering's later meetings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..database import begin_write, locked
from ..extensions import db
from ..models.accounts import User
from ..models.attendance import AttendanceMethod, AttendanceRecord, EvidenceKind
from ..models.audit_chain import Actor, record_event
from ..models.offerings import Meeting
from ..models.participant_reports import ParticipantAlias, ParticipantImport, ReportFile
from ..rules.credit import AttendanceStatus, CreditPolicy
from .attendance import (
    MAX_REASON_CHARS,
    AttendanceError,
    add_evidence,
    enrolment_of,
    iso_utc,
    learner_record,
    normalise_now,
    require_staff,
    snapshot,
)
from .participant_preview import ImportPreview, LearnerChange, Participant, name_key, preview_import

METHOD = AttendanceMethod.VIDEO_REPORT


class AlreadyApplied(AttendanceError):
    """This file was already applied to this meeting: nothing changed."""


def _detail(change: LearnerChange, preview: ImportPreview) -> dict:
    """What the evidence keeps: the file, the rows it came from, the intervals, the minutes."""
    return {
        "file": preview.file_name,
        "sha256": preview.sha256,
        "platform": preview.report.platform,
        "names": [p.name for p in change.participants],
        "lines": sorted(r.line for p in change.participants for r in p.rows),
        "intervals": [[iso_utc(i.start), iso_utc(i.end)] for i in change.credit.intervals],
        "inside": [[iso_utc(i.start), iso_utc(i.end)] for i in change.credit.inside],
        "open_joins": [iso_utc(j) for j in change.credit.open_joins],
        "attended_minutes": change.credit.attended,
        "credited_minutes": change.credit.credited,
    }


@dataclass
class ApplyResult:
    created: int = 0
    corrected: int = 0
    unchanged: int = 0
    remembered: int = 0
    import_row: ParticipantImport | None = None


def _store_file(raw: bytes, sha256: str, now: datetime) -> None:
    if db.session.get(ReportFile, sha256) is not None:
        return
    try:
        with db.session.begin_nested():
            db.session.add(ReportFile(sha256=sha256, content=raw, size=len(raw), stored_dt=now))
    except IntegrityError:
        pass  # stored a moment ago by another import (another meeting's, the same bytes)


def apply_import(
    actor: Actor,
    meeting: Meeting,
    raw: bytes,
    file_name: str,
    policy: CreditPolicy,
    chosen: dict[str, int | None] | None = None,
    remember: frozenset[str] = frozenset(),
    reason: str | None = None,
    *,
    now: datetime | None = None,
) -> ApplyResult:
    """Apply the report to the meeting's records in the caller's transaction (views commit)."""
    begin_write()
    staff = require_staff(actor, meeting)
    now = normalise_now(now)
    reason = (reason or "").strip() or None
    if reason and len(reason) > MAX_REASON_CHARS:
        raise AttendanceError(f"Please keep the reason under {MAX_REASON_CHARS} characters.")
    db.session.scalar(locked(select(Meeting).where(Meeting.id == meeting.id)))
    preview = preview_import(meeting, raw, file_name, policy, chosen)
    if preview.already_applied is not None:
        raise AlreadyApplied("This report was already applied to this meeting: nothing changed.")
    if preview.corrections and reason is None:
        raise AttendanceError(
            f"{len(preview.corrections)} of these learners already had a mark that the report changes: "
            "give a reason for the corrections."
        )
    _store_file(raw, preview.sha256, now)
    row = ParticipantImport(
        meeting_id=meeting.id,
        sha256=preview.sha256,
        file_name=(file_name or "report")[:255],
        platform=preview.report.platform,
        summary={
            "columns": preview.report.columns,
            "learners": len(preview.learners),
            "staff": [p.name for p in preview.staff],
            "ignored": [p.name for p in preview.ignored + preview.unmatched],
            "guests": [p.name for p in preview.ignored + preview.unmatched if p.guest],
        },
        reason=reason,
        applied_by_id=staff.id,
        applied_dt=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError as exc:
        raise AlreadyApplied("This report was already applied to this meeting: nothing changed.") from exc
    result = ApplyResult(import_row=row)
    for change in sorted(preview.learners, key=lambda c: c.user_id):
        _apply_learner(actor, staff, meeting, change, preview, row, reason, now, result)
    for person in preview.learners:
        for p in person.participants:
            if p.matched_by == "chosen" and p.key in remember:
                result.remembered += _remember(actor, meeting, p, staff, now)
    record_event(
        actor,
        "attendance.report_import",
        "participant_import",
        row.id,
        after={
            "meeting_id": meeting.id,
            "file": row.file_name,
            "sha256": row.sha256,
            "platform": row.platform,
            "created": result.created,
            "corrected": result.corrected,
            "unchanged": result.unchanged,
            "ignored": row.summary["ignored"],
            "staff": row.summary["staff"],
        },
        reason=reason,
        offering_id=meeting.offering_id,
    )
    return result


def _apply_learner(
    actor: Actor,
    staff: User,
    meeting: Meeting,
    change: LearnerChange,
    preview: ImportPreview,
    row: ParticipantImport,
    reason: str | None,
    now: datetime,
    result: ApplyResult,
) -> None:
    if enrolment_of(meeting.offering_id, change.user_id, lock=True) is None:
        return
    status = AttendanceStatus(change.after["status"])
    arrived = datetime.fromisoformat(change.after["arrived"]) if change.after["arrived"] else None
    departed = datetime.fromisoformat(change.after["departed"]) if change.after["departed"] else None
    detail = _detail(change, preview)
    record = learner_record(meeting.id, change.user_id, lock=True)
    if record is None:
        record = AttendanceRecord(
            meeting_id=meeting.id,
            user_id=change.user_id,
            status=status,
            arrived_dt=arrived,
            departed_dt=departed,
            method=METHOD,
            recorded_by_id=staff.id,
            created_dt=now,
            updated_dt=now,
        )
        db.session.add(record)
        db.session.flush()
        kind, action, before = EvidenceKind.MARK, "attendance.mark", None
        result.created += 1
    else:
        before = snapshot(record)
        if before == change.after:
            kind, action = EvidenceKind.REPORT, None
            result.unchanged += 1
        else:
            record.status, record.arrived_dt, record.departed_dt = status, arrived, departed
            record.method, record.recorded_by_id, record.updated_dt = METHOD, staff.id, now
            kind, action = EvidenceKind.CORRECTION, "attendance.correct"
            result.corrected += 1
    evidence = add_evidence(record, kind, METHOD, now, staff, ip=actor.ip_address)
    evidence.report_import_id = row.id
    evidence.report_detail = detail
    if action is not None:
        record_event(
            actor,
            action,
            "attendance",
            record.id,
            before=before,
            after={
                **snapshot(record),
                "method": METHOD.value,
                "report_sha256": preview.sha256,
                "report_file": row.file_name,
                "attended_minutes": change.credit.attended,
                "credited_minutes": change.credit.credited,
            },
            reason=reason,
            offering_id=meeting.offering_id,
            learner_id=change.user_id,
        )


def _remember(actor: Actor, meeting: Meeting, person: Participant, staff: User, now: datetime) -> int:
    key = name_key(person.name)
    alias = db.session.scalar(
        locked(
            select(ParticipantAlias).where(
                ParticipantAlias.offering_id == meeting.offering_id, ParticipantAlias.name_key == key
            )
        )
    )
    if alias is not None and alias.user_id == person.learner_id:
        return 0
    before = {"user_id": alias.user_id} if alias is not None else None
    if alias is None:
        alias = ParticipantAlias(
            offering_id=meeting.offering_id, name_key=key, user_id=person.learner_id,
            created_by_id=staff.id, created_dt=now,
        )  # fmt: skip
        db.session.add(alias)
    else:
        alias.user_id, alias.created_by_id, alias.created_dt = person.learner_id, staff.id, now
    db.session.flush()
    record_event(
        actor,
        "participant_alias.remember",
        "participant_alias",
        alias.id,
        before=before,
        after={"name": person.name, "user_id": person.learner_id},
        offering_id=meeting.offering_id,
        learner_id=person.learner_id,
    )
    return 1
