"""The demo that `make run` serves.

``ensure_demo`` builds the cohort the tests share: one offering, 11 meetings, five accounts, no
records. ``ensure_demo_story`` (what ``flask imh demo`` adds on top) makes it a believable mid-term
offering through the real operations, so every record has its evidence and audit event: the past
meetings carry attendance (a full attender, a late arrival, an excused absence, a missing sign-out,
an RN), some independent work is done, an admin account exists, and a second, finished offering
holds one issued certificate. Dates are relative to today, so the offering is mid-term whenever it
runs; nobody is shown an alert their records do not justify.

Idempotent: a second run finds what the first created and adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..models.accounts import User
from ..models.attendance import AttendanceRecord
from ..models.audit_chain import Actor, record_event
from ..models.curriculum import Course, CourseSession, Exercise, Quiz, Reading
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
from ..models.progress import ExerciseResponse
from ..records.ledgers import credit_policy, learner_ledger
from ..rules.credit import AttendanceStatus
from ..rules.licenses import Board
from ..security.roles import Role
from .accounts import ProfileData, create_user, find_user
from .attendance import mark, needs_departure
from .certificates import issue_certificate
from .checkin import CheckInIntent, checkin_window, close_checkin, current_code, open_checkin, self_check_in
from .evaluation import attest_attendance, submit_evaluation
from .progress import mark_reading_complete, save_response
from .quizzes import submit_attempt


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

    users, created = _ensure_accounts(actor, DEMO_ACCOUNTS, password)

    # Started five weeks ago, so some meetings are past (attendance) and some upcoming (schedule).
    first_day = today - timedelta(weeks=5)
    first_day -= timedelta(days=(first_day.weekday() - 1) % 7)  # the Tuesday on or before
    offering, created_offering = _find_or_create_offering(
        actor, course, sessions, first_day, provider=provider, tz_name=tz_name
    )
    _ensure_links(actor, offering, users, DEMO_ACCOUNTS)
    db.session.flush()
    return DemoResult(offering=offering, created_accounts=created, created_offering=created_offering)


def _find_or_create_offering(
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


def _ensure_accounts(
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


def _ensure_links(
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


# --- the mid-term story (``flask imh demo``) ------------------------------------------------------

#: learners of the mid-term offering besides the three of ``DEMO_ACCOUNTS`` (one story each)
STORY_LEARNERS: tuple[DemoAccount, ...] = (
    DemoAccount(
        "lmsw@example.org",
        "Eli Excused",
        Role.LEARNER,
        ProfileData("Eli J. Excused", "Social work", "LMSW", "067890", "NY"),
    ),
    DemoAccount(
        "lmft@example.org",
        "Sam Signin",
        Role.LEARNER,
        ProfileData("Sam R. Signin", "Marriage and family therapy", "LMFT", "009876", "NY"),
    ),
)
#: took the course last term: attended everything, evaluated, attested, holds a CE certificate
GRADUATE = DemoAccount(
    "graduate@example.org",
    "Grace Graduate",
    Role.LEARNER,
    ProfileData("Grace E. Graduate", "Social work", "LCSW", "054321", "NY"),
)
ADMIN = DemoAccount("admin@example.org", "Ada Admin", Role.ADMIN)

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

LATE_MEETING = 1  # the LMHC arrives late at the second meeting …
LATE_MINUTES = 20
EXCUSED_MEETING = 2  # … and the LMSW is excused from the third
EXCUSE = "Demo: excused in advance (family emergency)."
GOOD_RATINGS = {"objectives_met": 5, "instructors": 4, "relevance": 5}
_TERMS = (Term.SPRING, Term.SUMMER, Term.FALL)
_TERM_FIRST_MONTH = {Term.SPRING: 1, Term.SUMMER: 5, Term.FALL: 9}


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
    users, created = _ensure_accounts(actor, (*DEMO_ACCOUNTS, *STORY_LEARNERS, GRADUATE, ADMIN), password)
    _ensure_links(actor, offering, users, STORY_LEARNERS)
    instructor = Actor(user=users[DEMO_ACCOUNTS[1].email], role=Role.INSTRUCTOR.value)
    learners = [users[a.email] for a in (*DEMO_ACCOUNTS[2:], *STORY_LEARNERS)]
    _mid_term_attendance(instructor, offering, learners, users, now)
    _mid_term_work(offering, users, now)

    finished = _ensure_finished_offering(actor, offering, users, provider=provider, tz_name=tz_name)
    graduate = users[GRADUATE.email]
    finished_instructor = Actor(user=users[DEMO_ACCOUNTS[1].email], role=Role.INSTRUCTOR.value)
    for meeting in finished.meetings:
        mark(finished_instructor, meeting, graduate, AttendanceStatus.PRESENT, None, None, now=meeting.end_dt)
    graduate_actor = Actor(user=graduate, role=Role.LEARNER.value)
    for session in _sessions_of(finished):
        _do_work(graduate_actor, finished, session.id, exercises=True, quizzes=True)
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


def _mid_term_attendance(
    instructor: Actor, offering: Offering, learners: list[User], users: dict[str, User], now: datetime
) -> None:
    """Attendance for every meeting over by ``now`` that nobody has recorded yet.

    The instructor marks the earlier meetings (with the LMHC's late arrival and the LMSW's excused
    absence); the latest is taken by self check-in, where the LMFT signs in and never signs out
    (only once: a later run leaves the LMFT's sign-outs alone). A meeting already taken, or still
    running, is left as it is, so running again changes nothing and running next week catches up.
    """
    past = [m for m in offering.meetings if m.end_dt <= now]
    lmhc, lmsw, lmft = (users[a.email] for a in (DEMO_ACCOUNTS[3], *STORY_LEARNERS))
    for index, meeting in enumerate(past):
        taken = db.session.scalar(
            select(func.count())
            .select_from(AttendanceRecord)
            .where(AttendanceRecord.meeting_id == meeting.id)
        )
        if taken or checkin_window(meeting) is not None:
            continue
        if index == len(past) - 1:
            _self_check_in(instructor, meeting, learners, forgets_sign_out=_forgets_sign_out(offering, lmft))
            continue
        for learner in learners:
            if learner is lmhc and index == LATE_MEETING:
                arrived = meeting.start_dt + timedelta(minutes=LATE_MINUTES)
                mark(instructor, meeting, learner, AttendanceStatus.LATE, arrived, None, now=meeting.end_dt)
            elif learner is lmsw and index == EXCUSED_MEETING:
                mark(
                    instructor,
                    meeting,
                    learner,
                    AttendanceStatus.EXCUSED,
                    None,
                    None,
                    EXCUSE,
                    now=meeting.start_dt,
                )
            else:
                mark(instructor, meeting, learner, AttendanceStatus.PRESENT, None, None, now=meeting.end_dt)


def _forgets_sign_out(offering: Offering, learner: User) -> User | None:
    """``learner``, unless a missing sign-out of theirs is already on record (one is the story)."""
    records = db.session.scalars(
        select(AttendanceRecord)
        .join(Meeting, Meeting.id == AttendanceRecord.meeting_id)
        .where(Meeting.offering_id == offering.id, AttendanceRecord.user_id == learner.id)
    )
    return None if any(needs_departure(r) for r in records) else learner


def _self_check_in(
    instructor: Actor, meeting: Meeting, learners: list[User], *, forgets_sign_out: User | None
) -> None:
    """The instructor opens check-in, everyone signs in at the start and out at the end (but one)."""
    window = open_checkin(instructor, meeting, now=meeting.start_dt - timedelta(minutes=10))
    for moment, intent in (
        (meeting.start_dt, CheckInIntent.SIGN_IN),
        (meeting.end_dt, CheckInIntent.SIGN_OUT),
    ):
        for learner in learners:
            if intent is CheckInIntent.SIGN_OUT and learner is forgets_sign_out:
                continue
            learner_actor = Actor(user=learner, role=Role.LEARNER.value)
            self_check_in(
                learner_actor, meeting, current_code(window, moment), None, now=moment, intent=intent
            )
    close_checkin(instructor, meeting, now=meeting.end_dt + timedelta(minutes=15))


def _mid_term_work(offering: Offering, users: dict[str, User], now: datetime) -> None:
    """Independent work of the sessions met so far: the full attender is a session ahead, the others
    have the latest session's readings done but not yet its exercise and quiz."""
    met = [m.session for m in offering.meetings if m.start_dt <= now]
    following = [m.session for m in offering.meetings if m.start_dt > now][:1]
    for account in (*DEMO_ACCOUNTS[2:], *STORY_LEARNERS):
        actor = Actor(user=users[account.email], role=Role.LEARNER.value)
        ahead = account is DEMO_ACCOUNTS[2]
        sessions = met + following if ahead else met
        for position, session in enumerate(sessions):
            finished = ahead or position < len(sessions) - 1
            _do_work(actor, offering, session.id, exercises=finished, quizzes=finished)


def _current(model: type[Reading] | type[Exercise] | type[Quiz], session_id: int) -> list[Any]:
    return list(
        db.session.scalars(
            select(model)
            .where(model.session_id == session_id, model.is_current.is_(True), model.is_published.is_(True))
            .order_by(model.key)
        )
    )


def _do_work(actor: Actor, offering: Offering, session_id: int, *, exercises: bool, quizzes: bool) -> None:
    """Readings marked complete, and optionally the exercises submitted and the quizzes passed (once)."""
    for reading in _current(Reading, session_id):
        mark_reading_complete(actor, offering, reading)
    if exercises:
        for exercise in _current(Exercise, session_id):
            done = db.session.scalar(
                select(ExerciseResponse.id).where(
                    ExerciseResponse.user_id == actor.user.id,
                    ExerciseResponse.offering_id == offering.id,
                    ExerciseResponse.exercise_key == exercise.key,
                )
            )
            if done is None:
                body = "Demo response: what I noticed, what I wondered, and what I will try with families."
                save_response(actor, offering, exercise, body, submit=True, share=False)
    if quizzes:
        for quiz in _current(Quiz, session_id):
            answers = {
                q.key: [o["id"] for o in q.options if o["correct"]][: None if q.kind == "multiple" else 1]
                for q in quiz.questions
            }
            submit_attempt(actor, offering, quiz, 1, answers)


def _previous_term(term: Term, year: int) -> tuple[Term, int]:
    index = _TERMS.index(term)
    return (_TERMS[index - 1], year) if index else (_TERMS[-1], year - 1)


def _ensure_finished_offering(
    actor: Actor, current: Offering, users: dict[str, User], *, provider: str, tz_name: str
) -> Offering:
    """Last term's offering (over before ``current`` began), the instructor and the graduate in it."""
    term, year = _previous_term(current.term, current.year)
    first_day = date(year, _TERM_FIRST_MONTH[term], 8)
    first_day += timedelta(days=(1 - first_day.weekday()) % 7)  # the second Tuesday of the term
    course = db.session.get(Course, current.course_id)
    sessions = [m.session for m in current.meetings]
    offering, _created = _find_or_create_offering(
        actor, course, sessions, first_day, provider=provider, tz_name=tz_name
    )
    _ensure_links(actor, offering, users, (DEMO_ACCOUNTS[1], GRADUATE))
    db.session.flush()
    db.session.refresh(offering)
    return offering


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
