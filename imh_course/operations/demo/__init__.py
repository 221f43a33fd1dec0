"""The demo that `make run` serves.

``ensure_demo`` builds the cohort the tests share: one offering, 11 meetings, five accounts, no
records. ``ensure_demo_story`` (what ``flask imh demo`` adds on top) makes it a believable mid-term
offering through the real operations, so every record has its evidence and audit event: the past
meetings carry attendance (a full attender, a late arrival, an excused absence, a missing sign-out,
an RN), some independent work is done, an admin account exists, and a second, finished offering
holds one issued certificate. Dates are relative to today, so the offering is mid-term whenever it
runs; nobody is shown an alert their records do not justify.

Idempotent: a second run finds what the first created and adds nothing. The accounts are in
``cast``, the rows found or created once in ``cohort``, the mid-term records in ``story``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from ...extensions import db
from ...models.audit_chain import Actor
from ...models.curriculum import Course, CourseSession
from ...models.offerings import Meeting, Offering
from ...records.ledgers import credit_policy, learner_ledger
from ...rules.credit import AttendanceStatus
from ...security.roles import Role
from ..attendance import mark
from ..certificates import issue_certificate
from ..evaluation import attest_attendance, submit_evaluation
from ..offerings import update_meeting
from .cast import ADMIN, DEMO_ACCOUNTS, GRADUATE, STORY_LEARNERS, DemoAccount
from .cohort import ensure_accounts, ensure_finished_offering, ensure_links, find_or_create_offering
from .story import do_work, mid_term_attendance, mid_term_work


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

    users, created = ensure_accounts(actor, DEMO_ACCOUNTS, password)

    # Started five weeks ago, so some meetings are past (attendance) and some upcoming (schedule).
    first_day = today - timedelta(weeks=5)
    first_day -= timedelta(days=(first_day.weekday() - 1) % 7)  # the Tuesday on or before
    offering, created_offering = find_or_create_offering(
        actor, course, sessions, first_day, provider=provider, tz_name=tz_name
    )
    ensure_links(actor, offering, users, DEMO_ACCOUNTS)
    db.session.flush()
    return DemoResult(offering=offering, created_accounts=created, created_offering=created_offering)


# --- the mid-term story (``flask imh demo``) ------------------------------------------------------

#: every account ``flask imh demo`` makes, and what signing in as it shows (README and CLI list these)
DEMO_SIGN_INS: tuple[tuple[DemoAccount, str], ...] = (
    (DEMO_ACCOUNTS[0], "both offerings, the completion matrix, certificates, the audit trail"),
    (DEMO_ACCOUNTS[1], "attendance rosters and check-in; one past meeting has a missing sign-out"),
    (DEMO_ACCOUNTS[2], "LCSW, full attender, work a session ahead: CE contact hours, no alert"),
    (DEMO_ACCOUNTS[3], "LMHC, arrived 20 minutes late once: fewer CE minutes that meeting"),
    (DEMO_ACCOUNTS[4], "RN, full attender: face-to-face clock hours, not CE; certificate of completion"),
    (STORY_LEARNERS[0], "LMSW, one excused absence: can miss no further session"),
    (STORY_LEARNERS[1], "LMFT, signed in but not out at the last meeting: that meeting credits nothing"),
    (GRADUATE, "LCSW, last term's offering finished: an issued CE certificate (verify it)"),
    (ADMIN, "accounts, the email outbox (read the demo's emails) and the audit trail"),
)

GOOD_RATINGS = {"objectives_met": 5, "instructors": 4, "relevance": 5}


@dataclass(frozen=True)
class StoryResult:
    finished_offering: Offering
    created_accounts: list[str]
    certificate_public_id: str


def ensure_demo_story(
    demo: DemoResult, now: datetime, *, password: str, provider: str, tz_name: str = "America/New_York"
) -> StoryResult:
    """Make ``demo``'s offering mid-term (as of ``now``) and add the finished one; flushes, never commits.

    Needs an application context (the credit policy and certificate settings come from its config).
    """
    actor = Actor.system()
    offering = demo.offering
    users, created = ensure_accounts(actor, (*DEMO_ACCOUNTS, *STORY_LEARNERS, GRADUATE, ADMIN), password)
    ensure_links(actor, offering, users, STORY_LEARNERS)
    instructor = Actor(user=users[DEMO_ACCOUNTS[1].email], role=Role.INSTRUCTOR.value)
    learners = [users[a.email] for a in (*DEMO_ACCOUNTS[2:], *STORY_LEARNERS)]
    mid_term_attendance(instructor, offering, learners, users, now)
    mid_term_work(offering, users, now)

    finished = ensure_finished_offering(actor, offering, users, provider=provider, tz_name=tz_name)
    graduate = users[GRADUATE.email]
    finished_instructor = Actor(user=users[DEMO_ACCOUNTS[1].email], role=Role.INSTRUCTOR.value)
    for meeting in finished.meetings:
        mark(finished_instructor, meeting, graduate, AttendanceStatus.PRESENT, None, None, now=meeting.end_dt)
    graduate_actor = Actor(user=graduate, role=Role.LEARNER.value)
    for session in _sessions_of(finished):
        do_work(graduate_actor, finished, session.id, exercises=True, quizzes=True)
    submit_evaluation(
        graduate_actor, finished, GOOD_RATINGS, "Demo: the case discussions were the best part."
    )
    ledger = learner_ledger(finished, graduate.id, credit_policy(current_app.config))
    attest_attendance(graduate_actor, finished, ledger, ledger.ce_minutes, ce=True)
    coordinator = Actor(user=users[DEMO_ACCOUNTS[0].email], role=Role.COORDINATOR.value)
    certificate = issue_certificate(coordinator, finished, graduate).certificate
    db.session.flush()
    return StoryResult(
        finished_offering=finished, created_accounts=created, certificate_public_id=certificate.public_id
    )


def _sessions_of(offering: Offering) -> list[CourseSession]:
    return [m.session for m in offering.meetings]


def make_next_meeting_live(offering: Offering, now: datetime) -> Meeting | None:
    """Move the next meeting not yet over so it started five minutes ago (to try self check-in).

    An ordinary, audited reschedule, exactly what a coordinator could do on the meeting page.
    """
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
