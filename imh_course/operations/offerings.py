"""Creating offerings, their board approvals and instructors; scheduling and editing meetings.

Like every operation: takes the actor and plain data, validates, writes, flushes, audits in the same
transaction, never commits. Times are entered as the offering's local wall clock and stored in UTC
(``weekly_meetings`` converts week by week, so a DST change keeps the local time; the demo and
the bench seed schedule with it too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..database import begin_write
from ..extensions import db
from ..models.accounts import User, UserRole
from ..models.attendance import AttendanceRecord
from ..models.audit_chain import Actor, record_event
from ..models.curriculum import Course, CourseSession
from ..models.offerings import BoardApproval, DeliveryFormat, InstructorAssignment, Meeting, Offering, Term
from ..rules.licenses import Board, validate_provider_number
from ..security.roles import Role

MAX_MEETING_MINUTES = 8 * 60
MAX_REASON_CHARS = 500


class OfferingError(ValueError):
    """A clear reason an offering change was refused; ``field`` names the form field, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ApprovalData:
    board: Board
    provider_number: str
    statement: str


@dataclass(frozen=True)
class OfferingData:
    term: Term
    year: int
    format: DeliveryFormat
    timezone: str
    location: str | None = None
    meeting_url: str | None = None
    approvals: tuple[ApprovalData, ...] = ()
    instructor_ids: tuple[int, ...] = ()


def zone_problem(name: str) -> str | None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "Use an IANA time zone name such as America/New_York."
    return None


def _validate(data: OfferingData) -> None:
    if not 2000 <= data.year <= 2100:
        raise OfferingError("Enter a year between 2000 and 2100.", "year")
    if zone_problem(data.timezone):
        raise OfferingError(zone_problem(data.timezone) or "", "timezone")
    if data.format is DeliveryFormat.IN_PERSON and not (data.location or "").strip():
        raise OfferingError("An in-person offering needs a location.", "location")
    if data.format is DeliveryFormat.LIVE_ONLINE and not (data.meeting_url or "").strip():
        raise OfferingError("A live-online offering needs a meeting link.", "meeting_url")
    boards = [a.board for a in data.approvals]
    if len(boards) != len(set(boards)):
        raise OfferingError("Give at most one approval per board.")
    for approval in data.approvals:
        problem = validate_provider_number(approval.board, approval.provider_number)
        if problem:
            raise OfferingError(problem, f"{approval.board.value}_number")
        if not approval.statement.strip():
            raise OfferingError("Enter the board's approval statement.", f"{approval.board.value}_statement")


def instructor_choices() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.INSTRUCTOR, User.is_enabled.is_(True))
            .order_by(User.full_name)
        )
    )


def _instructors(ids: Sequence[int]) -> list[User]:
    allowed = {u.id: u for u in instructor_choices()}
    unknown = [i for i in ids if i not in allowed]
    if unknown:
        raise OfferingError("Choose instructors from the list.", "instructors")
    return [allowed[i] for i in dict.fromkeys(ids)]


def _snapshot(offering: Offering) -> dict[str, Any]:
    return {
        "term": offering.term.value,
        "year": offering.year,
        "format": offering.format.value,
        "location": offering.location,
        "meeting_url": offering.meeting_url,
        "timezone": offering.timezone,
        "approvals": {a.board.value: a.provider_number for a in offering.approvals},
    }


def _clean(value: str | None) -> str | None:
    return (value or "").strip() or None


def create_offering(actor: Actor, course: Course, data: OfferingData) -> Offering:
    """A new offering with its approvals and instructors (no meetings yet: see schedule_meetings)."""
    begin_write()
    _validate(data)
    instructors = _instructors(data.instructor_ids)
    if db.session.scalar(
        select(Offering.id).where(
            Offering.course_id == course.id, Offering.term == data.term, Offering.year == data.year
        )
    ):
        raise OfferingError(
            f"There is already a {data.term.value.capitalize()} {data.year} offering.", "term"
        )
    offering = Offering(
        course_id=course.id,
        term=data.term,
        year=data.year,
        format=data.format,
        location=_clean(data.location),
        meeting_url=_clean(data.meeting_url),
        timezone=data.timezone,
    )
    offering.approvals = [
        BoardApproval(board=a.board, provider_number=a.provider_number, statement=a.statement.strip())
        for a in data.approvals
    ]
    try:
        with db.session.begin_nested():
            db.session.add(offering)
    except IntegrityError:
        raise OfferingError(
            f"There is already a {data.term.value.capitalize()} {data.year} offering.", "term"
        ) from None
    record_event(
        actor, "offering.create", "offering", offering.id, offering_id=offering.id, after=_snapshot(offering)
    )
    for user in instructors:
        _assign(actor, offering, user)
    return offering


def _assign(actor: Actor, offering: Offering, user: User) -> None:
    db.session.add(InstructorAssignment(offering_id=offering.id, user_id=user.id))
    db.session.flush()
    record_event(
        actor,
        "offering.assign_instructor",
        "offering",
        offering.id,
        offering_id=offering.id,
        after={"instructor_id": user.id},
    )


def update_offering(actor: Actor, offering: Offering, data: OfferingData) -> bool:
    """Change details, approvals and instructors; every change is audited. False if nothing changed."""
    begin_write()
    _validate(data)
    instructors = _instructors(data.instructor_ids)
    clash = db.session.scalar(
        select(Offering.id).where(
            Offering.course_id == offering.course_id,
            Offering.term == data.term,
            Offering.year == data.year,
            Offering.id != offering.id,
        )
    )
    if clash:
        raise OfferingError(
            f"There is already a {data.term.value.capitalize()} {data.year} offering.", "term"
        )
    before = _snapshot(offering)
    statements_before = {a.board: a.statement for a in offering.approvals}
    offering.term, offering.year, offering.format = data.term, data.year, data.format
    offering.location, offering.meeting_url = _clean(data.location), _clean(data.meeting_url)
    offering.timezone = data.timezone
    wanted = {a.board: a for a in data.approvals}
    for approval in list(offering.approvals):
        if approval.board not in wanted:
            offering.approvals.remove(approval)
    existing = {a.board: a for a in offering.approvals}
    for board, a in wanted.items():
        row = existing.get(board)
        if row is None:
            offering.approvals.append(
                BoardApproval(board=board, provider_number=a.provider_number, statement=a.statement.strip())
            )
        else:
            row.provider_number, row.statement = a.provider_number, a.statement.strip()
    db.session.flush()
    after = _snapshot(offering)
    statements_after = {a.board: a.statement for a in offering.approvals}
    changed = before != after or statements_before != statements_after
    edited = sorted(
        b
        for b in statements_before.keys() | statements_after.keys()
        if statements_before.get(b) != statements_after.get(b)
    )
    if edited:  # the wording a certificate carries: the audit shows what it said and says now
        before["approval_statements"] = {b.value: statements_before.get(b) for b in edited}
        after["approval_statements"] = {b.value: statements_after.get(b) for b in edited}
    if changed:
        record_event(
            actor,
            "offering.update",
            "offering",
            offering.id,
            offering_id=offering.id,
            before=before,
            after=after,
        )
    current = {a.user_id: a for a in offering.instructors}
    for user in instructors:
        if user.id not in current:
            _assign(actor, offering, user)
            changed = True
    keep = {u.id for u in instructors}
    for user_id, assignment in current.items():
        if user_id not in keep:
            db.session.delete(assignment)
            db.session.flush()
            record_event(
                actor,
                "offering.unassign_instructor",
                "offering",
                offering.id,
                offering_id=offering.id,
                before={"instructor_id": user_id},
            )
            changed = True
    db.session.expire(offering, ["instructors"])
    return changed


# --- meetings ----------------------------------------------------------------------------------------
def weekly_meetings(
    first_day: date, start: time, minutes: int, tz_name: str, count: int
) -> list[tuple[datetime, datetime]]:
    """Local wall-clock times converted to UTC, week by week (DST-correct)."""
    zone = ZoneInfo(tz_name)
    slots = []
    for week in range(count):
        local = datetime.combine(first_day + timedelta(weeks=week), start, tzinfo=zone)
        begin = local.astimezone(ZoneInfo("UTC"))
        slots.append((begin, begin + timedelta(minutes=minutes)))
    return slots


def first_on_weekday(first_day: date, weekday: int) -> date:
    """The first date on or after ``first_day`` that falls on ``weekday`` (Monday = 0)."""
    return first_day + timedelta(days=(weekday - first_day.weekday()) % 7)


def schedule_meetings(
    actor: Actor, offering: Offering, first_day: date, weekday: int, start: time
) -> list[Meeting]:
    """One meeting per course session, weekly from the first ``weekday`` on or after ``first_day``.

    Each meeting lasts its session's face-to-face minutes. Refused when meetings exist already
    (edit them one by one instead), so a double submit cannot create a second schedule.
    """
    begin_write()
    if not 0 <= weekday <= 6:
        raise OfferingError("Choose a weekday.", "weekday")
    if db.session.scalar(select(func.count()).select_from(Meeting).where(Meeting.offering_id == offering.id)):
        raise OfferingError("This offering already has its meetings: edit them one by one.")
    sessions = list(
        db.session.scalars(
            select(CourseSession)
            .where(CourseSession.course_id == offering.course_id)
            .order_by(CourseSession.number)
        )
    )
    if not sessions:
        raise OfferingError("The course has no sessions yet: load the content first.")
    day = first_on_weekday(first_day, weekday)
    slots = weekly_meetings(day, start, 0, offering.timezone, len(sessions))
    meetings = [
        Meeting(
            offering_id=offering.id,
            session_id=s.id,
            start_dt=begin,
            end_dt=begin + timedelta(minutes=s.face_to_face_minutes),
        )
        for s, (begin, _end) in zip(sessions, slots, strict=True)
    ]
    try:
        with db.session.begin_nested():
            db.session.add_all(meetings)
    except IntegrityError:
        raise OfferingError("This offering already has its meetings: edit them one by one.") from None
    record_event(
        actor,
        "meeting.schedule",
        "offering",
        offering.id,
        offering_id=offering.id,
        after={
            "meetings": [
                {"session": s.number, "start": m.start_dt.isoformat()}
                for s, m in zip(sessions, meetings, strict=True)
            ]
        },
    )
    db.session.expire(offering, ["meetings"])
    return meetings


def local_window(tz_name: str, day: date, start: time, end: time) -> tuple[datetime, datetime]:
    """A meeting's [start, end] in UTC from the local date and wall-clock times."""
    zone = ZoneInfo(tz_name)
    begin = datetime.combine(day, start, tzinfo=zone).astimezone(UTC)
    finish = datetime.combine(day, end, tzinfo=zone).astimezone(UTC)
    return begin, finish


def update_meeting(
    actor: Actor,
    meeting: Meeting,
    start_dt: datetime,
    end_dt: datetime,
    ce_eligible: bool,
    reason: str | None,
) -> bool:
    """Move or re-time a meeting, or change its CE eligibility; audited with before and after.

    A meeting that already has attendance needs a reason: its window decides credited minutes.
    Returns False when nothing changed.
    """
    begin_write()
    if end_dt <= start_dt:
        raise OfferingError("The end must be after the start.", "end_time")
    if end_dt - start_dt > timedelta(minutes=MAX_MEETING_MINUTES):
        raise OfferingError("A meeting lasts at most 8 hours.", "end_time")
    reason = (reason or "").strip() or None
    if reason and len(reason) > MAX_REASON_CHARS:
        raise OfferingError(f"Please keep the reason under {MAX_REASON_CHARS} characters.", "reason")
    before = {
        "start": meeting.start_dt.isoformat(),
        "end": meeting.end_dt.isoformat(),
        "ce_eligible": meeting.is_ce_eligible,
    }
    after = {"start": start_dt.isoformat(), "end": end_dt.isoformat(), "ce_eligible": ce_eligible}
    if before == after:
        return False
    has_attendance = db.session.scalar(
        select(AttendanceRecord.id).where(AttendanceRecord.meeting_id == meeting.id).limit(1)
    )
    if has_attendance and not reason:
        raise OfferingError(
            "Attendance is already recorded for this meeting: give a reason for the change.", "reason"
        )
    meeting.start_dt, meeting.end_dt, meeting.is_ce_eligible = start_dt, end_dt, ce_eligible
    db.session.flush()
    record_event(
        actor,
        "meeting.update",
        "meeting",
        meeting.id,
        offering_id=meeting.offering_id,
        before=before,
        after=after,
        reason=reason,
    )
    return True
