"""The demo's rows, found or created once: accounts, offerings with weekly meetings, enrolments.

Every write is audited like the real operations' (``offering.create``, ``enrolment.create``…), and
each helper looks for what an earlier run made first, so running the demo again adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time, timedelta

from sqlalchemy import select

from ...extensions import db
from ...models.accounts import User
from ...models.audit_chain import Actor, record_event
from ...models.curriculum import Course, CourseSession
from ...models.offerings import (
    BoardApproval,
    DeliveryFormat,
    Enrolment,
    InstructorAssignment,
    Meeting,
    Offering,
    Term,
)
from ...security.roles import Role
from ..accounts import create_user, find_user
from ..offerings import weekly_meetings
from .cast import DEMO_ACCOUNTS, DEMO_APPROVALS, GRADUATE, DemoAccount

_TERMS = (Term.SPRING, Term.SUMMER, Term.FALL)
_TERM_FIRST_MONTH = {Term.SPRING: 1, Term.SUMMER: 5, Term.FALL: 9}


def term_for(day: date) -> Term:
    if day.month <= 4:
        return Term.SPRING
    if day.month <= 8:
        return Term.SUMMER
    return Term.FALL


def find_or_create_offering(
    actor: Actor,
    course: Course,
    sessions: Sequence[CourseSession],
    first_day: date,
    *,
    provider: str,
    tz_name: str,
) -> tuple[Offering, bool]:
    """The course's offering of the term ``first_day`` falls in, with weekly noon meetings from it."""
    term, year = term_for(first_day), first_day.year
    offering = db.session.scalar(
        select(Offering).where(Offering.course_id == course.id, Offering.term == term, Offering.year == year)
    )
    if offering is not None:
        return offering, False
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
        db.session.add(Meeting(offering_id=offering.id, session_id=session.id, start_dt=begin, end_dt=end))
    record_event(
        actor,
        "offering.create",
        "offering",
        offering.id,
        offering_id=offering.id,
        after={"term": term.value, "year": year, "meetings": len(sessions)},
    )
    db.session.flush()
    return offering, True


def ensure_accounts(
    actor: Actor, accounts: Sequence[DemoAccount], password: str
) -> tuple[dict[str, User], list[str]]:
    """The accounts by email (created where missing) and the emails created now."""
    created: list[str] = []
    users: dict[str, User] = {}
    for account in accounts:
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
    return users, created


def ensure_links(
    actor: Actor, offering: Offering, users: dict[str, User], accounts: Sequence[DemoAccount]
) -> None:
    """Instructors assigned to ``offering`` and learners enrolled in it, once."""
    for account in accounts:
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


def _previous_term(term: Term, year: int) -> tuple[Term, int]:
    index = _TERMS.index(term)
    return (_TERMS[index - 1], year) if index else (_TERMS[-1], year - 1)


def ensure_finished_offering(
    actor: Actor, current: Offering, users: dict[str, User], *, provider: str, tz_name: str
) -> Offering:
    """Last term's offering (over before ``current`` began), the instructor and the graduate in it."""
    term, year = _previous_term(current.term, current.year)
    first_day = date(year, _TERM_FIRST_MONTH[term], 8)
    first_day += timedelta(days=(1 - first_day.weekday()) % 7)  # the second Tuesday of the term
    course = db.session.get(Course, current.course_id)
    sessions = [m.session for m in current.meetings]
    offering, _created = find_or_create_offering(
        actor, course, sessions, first_day, provider=provider, tz_name=tz_name
    )
    ensure_links(actor, offering, users, (DEMO_ACCOUNTS[1], GRADUATE))
    db.session.flush()
    db.session.refresh(offering)
    return offering
