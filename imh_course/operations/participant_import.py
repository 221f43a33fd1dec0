"""Crediting a live online meeting from the video platform's participant report.

``preview_import`` reads the file and writes nothing: each participant is matched to an enrolled
learner by email (case-insensitively), by the importer's choice on the matching screen, or by a
name the offering remembers from an earlier meeting; staff (emails of staff accounts, Teams
organisers and presenters) and names left unmatched (guests among them) are ignored and listed.
Each learner's joins are merged, clipped and credited by the one credit rule
(``rules/online_credit``), and the preview says what changes against the saved marks.

``apply_import`` does it in ONE transaction, under the meeting's row lock (PostgreSQL
``FOR UPDATE`` with a refreshed read; SQLite writers hold the database lock): the file is stored
content-addressed, the import row (unique per meeting and sha256) makes a second import of the
same file "already applied", and every learner's record gets evidence of method "video platform
report" with the import (file name, sha256) and the intervals. A record that already had a mark
changes only as a correction with the importer's reason. Audited like every attendance change.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..database import begin_write, locked
from ..extensions import db
from ..models.accounts import User, UserRole
from ..models.attendance import AttendanceMethod, AttendanceRecord, EvidenceKind
from ..models.audit_chain import Actor, record_event
from ..models.offerings import Enrolment, EnrolmentStatus, Meeting
from ..models.participant_reports import ParticipantAlias, ParticipantImport, ReportFile
from ..models.types import utcnow
from ..records.ledgers import meeting_window
from ..rules.credit import AttendanceStatus, CreditPolicy
from ..rules.online_credit import OnlineCredit, date_problem, online_credit
from ..rules.participant_report import ParsedReport, ReportError, ReportRow, parse_report
from ..security.roles import Role
from .attendance import (
    MAX_REASON_CHARS,
    OPENS_BEFORE_START,
    AttendanceError,
    add_evidence,
    enrolment_of,
    iso_utc,
    learner_record,
    normalise_now,
    require_staff,
    snapshot,
)

METHOD = AttendanceMethod.VIDEO_REPORT
STAFF_ROLES = ("organizer", "co-organizer", "presenter", "host", "co-host")


class AlreadyApplied(AttendanceError):
    """This file was already applied to this meeting: nothing changed."""


def name_key(name: str) -> str:
    """How a report name is remembered: case-folded, spaces collapsed."""
    return " ".join(name.casefold().split())[:200]


@dataclass
class Participant:
    """One person of the report: their rows grouped by email, or by name when there is none."""

    key: str
    name: str
    email: str | None
    guest: bool
    role: str | None
    rows: list[ReportRow] = field(default_factory=list)
    minutes: int = 0  # inside the meeting, for the matching screen
    learner_id: int | None = None
    matched_by: str = ""  # "email", "remembered", "chosen"


@dataclass
class LearnerChange:
    user_id: int
    name: str
    participants: list[Participant]
    credit: OnlineCredit
    before: dict | None
    after: dict
    change: str  # "new", "correction", "unchanged"


@dataclass
class ImportPreview:
    report: ParsedReport
    sha256: str
    file_name: str
    learners: list[LearnerChange]
    unmatched: list[Participant]
    staff: list[Participant]
    ignored: list[Participant]
    not_in_report: list[str]
    learner_choices: list[tuple[int, str]]
    already_applied: ParticipantImport | None = None

    @property
    def corrections(self) -> list[LearnerChange]:
        return [c for c in self.learners if c.change == "correction"]


def _group(report: ParsedReport) -> list[Participant]:
    people: dict[str, Participant] = {}
    for row in report.rows:
        key = f"email:{row.email}" if row.email else f"name:{name_key(row.name)}"
        person = people.get(key)
        if person is None:
            person = people[key] = Participant(key, row.name, row.email, row.guest, row.role)
        person.rows.append(row)
        person.guest = person.guest and row.guest
    return list(people.values())


def _joins(rows: list[ReportRow]) -> list[tuple[datetime, datetime | None]]:
    return [(r.join, r.leave) for r in rows]


def read_report(meeting: Meeting, raw: bytes) -> ParsedReport:
    """The parsed file, or AttendanceError naming why it cannot be this meeting's report."""
    if utcnow() < meeting.start_dt - OPENS_BEFORE_START:
        raise AttendanceError("This meeting has not started yet: its participant report cannot exist.")
    try:
        report = parse_report(raw, meeting.offering.timezone)
    except ReportError as exc:
        raise AttendanceError(f"This file cannot be read: {exc} Nothing was changed.") from exc
    problem = date_problem(
        meeting_window(meeting), [r.join for r in report.rows], ZoneInfo(meeting.offering.timezone)
    )
    if problem:
        raise AttendanceError(problem)
    return report


def preview_import(
    meeting: Meeting,
    raw: bytes,
    file_name: str,
    policy: CreditPolicy,
    chosen: dict[str, int | None] | None = None,
) -> ImportPreview:
    """What applying the file would do (nothing is written). ``chosen``: participant key → learner
    id (or None: not a learner), from the matching screen."""
    report = read_report(meeting, raw)
    window = meeting_window(meeting)
    learners = {
        u.id: u
        for u in db.session.scalars(
            select(User)
            .join(Enrolment, Enrolment.user_id == User.id)
            .where(
                Enrolment.offering_id == meeting.offering_id, Enrolment.status != EnrolmentStatus.WITHDRAWN
            )
        )
    }
    by_email = {u.email.casefold(): u.id for u in learners.values()}
    staff_emails = set(
        db.session.scalars(
            select(func.lower(User.email))
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role.in_([Role.INSTRUCTOR, Role.COORDINATOR, Role.ADMIN]))
        )
    ) - set(by_email)
    remembered = {
        a.name_key: a.user_id
        for a in db.session.scalars(
            select(ParticipantAlias).where(ParticipantAlias.offering_id == meeting.offering_id)
        )
    }
    chosen = chosen or {}
    preview = ImportPreview(
        report=report,
        sha256=hashlib.sha256(raw).hexdigest(),
        file_name=file_name,
        learners=[],
        unmatched=[],
        staff=[],
        ignored=[],
        not_in_report=[],
        learner_choices=sorted(((u.id, u.full_name) for u in learners.values()), key=lambda c: c[1].lower()),
    )
    mine: dict[int, list[Participant]] = {}
    for person in _group(report):
        person.minutes = online_credit(window, _joins(person.rows), policy).attended
        email = person.email.casefold() if person.email else None
        if email and email in by_email:
            person.learner_id, person.matched_by = by_email[email], "email"
        elif (email and email in staff_emails) or (person.role or "").casefold() in STAFF_ROLES:
            preview.staff.append(person)
            continue
        elif person.key in chosen:
            if chosen[person.key] is None or chosen[person.key] not in learners:
                preview.ignored.append(person)
                continue
            person.learner_id, person.matched_by = chosen[person.key], "chosen"
        elif name_key(person.name) in remembered and remembered[name_key(person.name)] in learners:
            person.learner_id, person.matched_by = remembered[name_key(person.name)], "remembered"
        else:
            preview.unmatched.append(person)
            continue
        mine.setdefault(person.learner_id, []).append(person)
    records = {
        r.user_id: r
        for r in db.session.scalars(select(AttendanceRecord).where(AttendanceRecord.meeting_id == meeting.id))
    }
    for user_id, people in sorted(mine.items(), key=lambda item: learners[item[0]].full_name.lower()):
        credit = online_credit(window, [j for p in people for j in _joins(p.rows)], policy)
        status, arrived, departed = credit.record_times(window)
        after = {"status": status.value, "arrived": iso_utc(arrived), "departed": iso_utc(departed)}
        before = snapshot(records.get(user_id))
        change = "new" if before is None else "unchanged" if before == after else "correction"
        preview.learners.append(
            LearnerChange(user_id, learners[user_id].full_name, people, credit, before, after, change)
        )
    preview.not_in_report = sorted(
        (u.full_name for uid, u in learners.items() if uid not in mine), key=str.lower
    )
    preview.already_applied = db.session.scalar(
        select(ParticipantImport).where(
            ParticipantImport.meeting_id == meeting.id, ParticipantImport.sha256 == preview.sha256
        )
    )
    return preview


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
