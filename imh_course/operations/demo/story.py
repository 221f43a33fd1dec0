"""The mid-term records of the demo, made through the real operations (so each has its evidence).

Attendance: the instructor marks the earlier meetings (the LMHC arrives late once, the LMSW is
excused once) and the latest is taken by self check-in, where the LMFT never signs out. Independent
work: readings marked complete, exercises submitted and quizzes passed, session by session.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from ...extensions import db
from ...models.accounts import User
from ...models.attendance import AttendanceRecord
from ...models.audit_chain import Actor
from ...models.curriculum import Exercise, Quiz, Reading
from ...models.offerings import Meeting, Offering
from ...models.progress import ExerciseResponse
from ...rules.credit import AttendanceStatus
from ...security.roles import Role
from ..attendance import mark, needs_departure
from ..checkin import CheckInIntent, checkin_window, close_checkin, current_code, open_checkin, self_check_in
from ..progress import mark_reading_complete, save_response
from ..quizzes import submit_attempt
from .cast import DEMO_ACCOUNTS, STORY_LEARNERS

LATE_MEETING = 1  # the LMHC arrives late at the second meeting …
LATE_MINUTES = 20
EXCUSED_MEETING = 2  # … and the LMSW is excused from the third
EXCUSE = "Demo: excused in advance (family emergency)."


def mid_term_attendance(
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


def mid_term_work(offering: Offering, users: dict[str, User], now: datetime) -> None:
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
            do_work(actor, offering, session.id, exercises=finished, quizzes=finished)


def _current(model: type[Reading] | type[Exercise] | type[Quiz], session_id: int) -> list[Any]:
    return list(
        db.session.scalars(
            select(model)
            .where(model.session_id == session_id, model.is_current.is_(True), model.is_published.is_(True))
            .order_by(model.key)
        )
    )


def do_work(actor: Actor, offering: Offering, session_id: int, *, exercises: bool, quizzes: bool) -> None:
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
