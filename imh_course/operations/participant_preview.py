"""Reading a video platform's participant report for a meeting, and what applying it would do.

``preview_import`` reads the file and writes nothing: each participant is matched to an enrolled
learner by email (case-insensitively), by the importer's choice on the matching screen, or by a
name the offering remembers from an earlier meeting; staff (emails of staff accounts, Teams
organisers and presenters) and names left unmatched (guests among them) are ignored and listed.
Each learner's joins are merged, clipped and credited by the one credit rule
(``rules/online_credit``), and the preview says what changes against the saved marks. The matching
screen and ``operations/participant_import.apply_import`` both work from it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ..extensions import db
from ..models.accounts import User, UserRole
from ..models.attendance import AttendanceRecord
from ..models.offerings import Enrolment, EnrolmentStatus, Meeting
from ..models.participant_reports import ParticipantAlias, ParticipantImport
from ..models.types import utcnow
from ..records.ledgers import meeting_window
from ..rules.credit import CreditPolicy
from ..rules.online_credit import OnlineCredit, date_problem, online_credit
from ..rules.participant_report import ParsedReport, ReportError, ReportRow, parse_report
from ..security.roles import Role
from .attendance import OPENS_BEFORE_START, AttendanceError, iso_utc, snapshot

STAFF_ROLES = ("organizer", "co-organizer", "presenter", "host", "co-host")


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
