"""The demo cohort that `make run` serves: one offering, 11 meetings, five accounts.

Idempotent: a second run finds what the first created and adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..extensions import db
from ..models.accounts import User
from ..models.curriculum import Course, CourseSession
from ..models.offerings import (
    BoardApproval,
    DeliveryFormat,
    Enrolment,
    Funding,
    InstructorAssignment,
    Meeting,
    Offering,
    Term,
)
from ..roles import Role
from ..rules.licenses import Board
from .accounts import ProfileData, create_user, find_user
from .audit import Actor, record_event


@dataclass(frozen=True)
class DemoAccount:
    email: str
    full_name: str
    role: Role
    profile: ProfileData | None = None
    funding: Funding = Funding.FULL_FEE


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("coordinator@example.org", "Casey Coordinator", Role.COORDINATOR),
    DemoAccount("instructor@example.org", "Indira Instructor", Role.INSTRUCTOR),
    DemoAccount(
        "lcsw@example.org",
        "Lena Social-Worker",
        Role.LEARNER,
        ProfileData("Lena M. Social-Worker", "Social work", "LCSW", "012345", "NY"),
    ),
    DemoAccount(
        "lmhc@example.org",
        "Marco Counselor",
        Role.LEARNER,
        ProfileData("Marco A. Counselor", "Mental health counseling", "LMHC", "004321", "NY"),
        Funding.GRANT_FUNDED,
    ),
    DemoAccount(
        "nurse@example.org",
        "Nia Nurse",
        Role.LEARNER,
        ProfileData("Nia Nurse", "Nursing", "RN", None, "NY"),
        Funding.SCHOLARSHIP,
    ),
)

DEMO_APPROVALS = (
    (
        Board.SOCIAL_WORK,
        "SW-0000",
        "{provider} is recognized by the New York State Education Department's State Board for Social Work "
        "as an approved provider of continuing education for licensed social workers #{number}. (Demo data.)",
    ),
    (
        Board.MENTAL_HEALTH,
        "MHC-0000",
        "{provider} is recognized by the New York State Education Department's State Board for Mental Health "
        "Practitioners as an approved provider of continuing education for licensed mental health counselors "
        "#{number}. (Demo data.)",
    ),
)


def term_for(day: date) -> Term:
    if day.month <= 4:
        return Term.SPRING
    if day.month <= 8:
        return Term.SUMMER
    return Term.FALL


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


@dataclass(frozen=True)
class DemoResult:
    offering: Offering
    created_accounts: list[str]
    created_offering: bool


def ensure_demo(
    today: date, *, password: str, provider: str, tz_name: str = "America/New_York"
) -> DemoResult:
    """Create (or find) the demo offering and accounts; flushes, the caller commits."""
    actor = Actor.system()
    course = db.session.scalar(select(Course).order_by(Course.id).limit(1))
    if course is None:
        raise RuntimeError("Load the course content first: flask imh content sync")
    sessions = db.session.scalars(
        select(CourseSession).where(CourseSession.course_id == course.id).order_by(CourseSession.number)
    ).all()

    created: list[str] = []
    users: dict[str, User] = {}
    for account in DEMO_ACCOUNTS:
        user = find_user(account.email)
        if user is None:
            user = create_user(
                actor,
                email=account.email,
                full_name=account.full_name,
                roles=[account.role],
                password=password,
                profile=account.profile,
            )
            created.append(account.email)
        users[account.email] = user

    # Started five weeks ago, so some meetings are past (attendance) and some upcoming (schedule).
    first_day = today - timedelta(weeks=5)
    first_day -= timedelta(days=(first_day.weekday() - 1) % 7)  # the Tuesday on or before
    term, year = term_for(first_day), first_day.year
    offering = db.session.scalar(
        select(Offering).where(Offering.course_id == course.id, Offering.term == term, Offering.year == year)
    )
    created_offering = offering is None
    if offering is None:
        offering = Offering(
            course_id=course.id,
            term=term,
            year=year,
            format=DeliveryFormat.IN_PERSON,
            location="SPCC, 200 Genesee St, Rochester, NY (demo)",
            timezone=tz_name,
        )
        offering.approvals = [
            BoardApproval(
                board=board, provider_number=number, statement=text.format(provider=provider, number=number)
            )
            for board, number, text in DEMO_APPROVALS
        ]
        db.session.add(offering)
        db.session.flush()
        slots = weekly_meetings(first_day, time(12, 0), 90, tz_name, len(sessions))
        for session, (begin, end) in zip(sessions, slots, strict=True):
            db.session.add(
                Meeting(offering_id=offering.id, session_id=session.id, start_dt=begin, end_dt=end)
            )
        record_event(
            actor,
            "offering.create",
            "offering",
            offering.id,
            offering_id=offering.id,
            after={"term": term.value, "year": year, "meetings": len(sessions)},
        )
    _ensure_links(actor, offering, users)
    db.session.flush()
    return DemoResult(offering=offering, created_accounts=created, created_offering=created_offering)


def _ensure_links(actor: Actor, offering: Offering, users: dict[str, User]) -> None:
    for account in DEMO_ACCOUNTS:
        user = users[account.email]
        if account.role is Role.INSTRUCTOR:
            exists = db.session.scalar(
                select(InstructorAssignment).where(
                    InstructorAssignment.offering_id == offering.id, InstructorAssignment.user_id == user.id
                )
            )
            if exists is None:
                db.session.add(InstructorAssignment(offering_id=offering.id, user_id=user.id))
                record_event(
                    actor,
                    "offering.assign_instructor",
                    "offering",
                    offering.id,
                    offering_id=offering.id,
                    after={"instructor_id": user.id},
                )
        if account.role is Role.LEARNER:
            exists = db.session.scalar(
                select(Enrolment).where(Enrolment.offering_id == offering.id, Enrolment.user_id == user.id)
            )
            if exists is None:
                db.session.add(Enrolment(offering_id=offering.id, user_id=user.id, funding=account.funding))
                record_event(
                    actor,
                    "enrolment.create",
                    "enrolment",
                    None,
                    offering_id=offering.id,
                    learner_id=user.id,
                    after={"funding": account.funding.value},
                )


def make_next_meeting_live(offering: Offering, now: datetime) -> Meeting | None:
    """Move the next meeting not yet over so it started five minutes ago (to try self check-in).

    An ordinary, audited reschedule, exactly what a coordinator could do on the meeting page.
    """
    from .offerings import update_meeting

    meeting = db.session.scalar(
        select(Meeting)
        .where(Meeting.offering_id == offering.id, Meeting.end_dt > now)
        .order_by(Meeting.start_dt)
    )
    if meeting is None:
        return None
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=5)
    update_meeting(
        Actor.system(),
        meeting,
        start,
        start + timedelta(minutes=meeting.length_minutes),
        meeting.is_ce_eligible,
        "Demo: moved to now so self check-in can be tried.",
    )
    return meeting
