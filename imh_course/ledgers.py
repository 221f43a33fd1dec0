"""The two ledgers of one learner in one offering, assembled from the database with bounded queries.

CE contact hours come only from attendance records (through rules.credit); independent learning
only from completed readings, submitted exercises and passed quizzes. The two totals are computed
by separate functions from separate inputs, so no code path can add one to the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import defer

from .extensions import db
from .models.attendance import AttendanceRecord
from .models.curriculum import CourseSession, Exercise, Quiz, Reading
from .models.offerings import Meeting, Offering
from .models.progress import ExerciseResponse, ReadingCompletion, ResponseStatus
from .models.quizzes import QuizAttempt
from .models.types import utcnow
from .rules.credit import (
    AttendanceFact,
    AttendanceStatus,
    CreditMode,
    CreditPolicy,
    IndependentItem,
    IndependentKind,
    MeetingWindow,
    attended_minutes,
    credited_minutes,
    independent_minutes,
    minutes_to_hours,
)


def credit_policy(config: Mapping[str, Any]) -> CreditPolicy:
    """The credit policy from the app's settings (DOMAIN.md defaults)."""
    return CreditPolicy(
        mode=CreditMode(config["IMH_CREDIT_MODE"]),
        minutes_per_hour=int(config["IMH_MINUTES_PER_CE_HOUR"]),
        increment_minutes=int(config["IMH_CREDIT_INCREMENT_MINUTES"]),
        grace_minutes=int(config["IMH_CREDIT_GRACE_MINUTES"]),
    )


def meeting_window(meeting: Meeting) -> MeetingWindow:
    return MeetingWindow(
        meeting_id=meeting.id, start=meeting.start_dt, end=meeting.end_dt, ce_eligible=meeting.is_ce_eligible
    )


def attendance_fact(record: AttendanceRecord) -> AttendanceFact:
    return AttendanceFact(
        meeting_id=record.meeting_id,
        status=AttendanceStatus(record.status),
        arrived=record.arrived_dt,
        departed=record.departed_dt,
    )


def credit_for(meeting: Meeting, record: AttendanceRecord | None, policy: CreditPolicy) -> tuple[int, int]:
    """(attended minutes, credited minutes) of one learner at one meeting."""
    window = meeting_window(meeting)
    fact = attendance_fact(record) if record is not None else None
    return attended_minutes(window, fact), credited_minutes(window, fact, policy)


@dataclass
class SessionLedger:
    """One row of the transcript: a session, its meeting and what the learner did."""

    session: CourseSession
    meeting: Meeting | None
    attendance: AttendanceRecord | None
    attended_minutes: int
    credited_minutes: int
    readings: list[tuple[Reading, ReadingCompletion | None]]
    exercises: list[tuple[Exercise, ExerciseResponse | None]]
    quizzes: list[tuple[Quiz, list[QuizAttempt]]]
    independent_minutes: int
    independent_available: int

    @property
    def readings_done(self) -> int:
        return sum(1 for _r, done in self.readings if done is not None)

    @property
    def exercises_submitted(self) -> int:
        return sum(
            1 for _e, resp in self.exercises if resp is not None and resp.status is ResponseStatus.SUBMITTED
        )

    @property
    def quizzes_passed(self) -> int:
        return sum(1 for _q, attempts in self.quizzes if any(a.passed for a in attempts))

    @property
    def attended(self) -> bool:
        return self.credited_minutes > 0

    @property
    def awaiting_sign_out(self) -> bool:
        record = self.attendance
        return record is not None and record.arrived_dt is not None and record.departed_dt is None

    @property
    def is_past(self) -> bool:
        return self.meeting is not None and self.meeting.end_dt <= utcnow()

    @property
    def independent_complete(self) -> bool:
        return (
            self.readings_done == len(self.readings)
            and self.exercises_submitted == len(self.exercises)
            and self.quizzes_passed == len(self.quizzes)
        )


@dataclass
class LearnerLedger:
    offering: Offering
    policy: CreditPolicy
    sessions: list[SessionLedger] = field(default_factory=list)

    @property
    def ce_minutes(self) -> int:
        return sum(s.credited_minutes for s in self.sessions)

    @property
    def ce_hours(self) -> Decimal:
        return minutes_to_hours(self.ce_minutes, self.policy)

    @property
    def scheduled_ce_minutes(self) -> int:
        return sum(
            s.meeting.length_minutes
            for s in self.sessions
            if s.meeting is not None and s.meeting.is_ce_eligible
        )

    @property
    def scheduled_ce_hours(self) -> Decimal:
        return minutes_to_hours(self.scheduled_ce_minutes, self.policy)

    @property
    def independent_minutes(self) -> int:
        return sum(s.independent_minutes for s in self.sessions)

    @property
    def independent_available_minutes(self) -> int:
        return sum(s.independent_available for s in self.sessions)

    @property
    def independent_hours(self) -> Decimal:
        # Hours of independent learning are plain clock hours (60 minutes), never CE hours.
        return minutes_to_hours(self.independent_minutes, CreditPolicy(minutes_per_hour=60))

    @property
    def independent_available_hours(self) -> Decimal:
        return minutes_to_hours(self.independent_available_minutes, CreditPolicy(minutes_per_hour=60))

    @property
    def attended_clock_minutes(self) -> int:
        return sum(s.attended_minutes for s in self.sessions)

    @property
    def meetings_credited(self) -> int:
        return sum(1 for s in self.sessions if s.attended)

    @property
    def meetings_remaining(self) -> int:
        return sum(1 for s in self.sessions if s.meeting is not None and not s.is_past and not s.attended)

    def next_session(self) -> SessionLedger | None:
        """The next meeting still ahead, or the first session with unfinished independent work."""
        upcoming = [s for s in self.sessions if s.meeting is not None and not s.is_past]
        if upcoming:
            return upcoming[0]
        unfinished = [s for s in self.sessions if not s.independent_complete]
        return unfinished[0] if unfinished else None


#: Large text columns the overview pages never show; the session page loads them for one session.
_HEAVY_COLUMNS = {
    "Reading": ("body_md", "body_html", "key_concepts", "guiding_questions"),
    "Exercise": ("instructions_md", "instructions_html"),
}


def _current(model: type, session_ids: list[int], *, full_session_id: int | None = None) -> list[Any]:
    """Current, published items of the sessions; heavy text deferred except for ``full_session_id``."""
    query = (
        select(model)
        .where(model.session_id.in_(session_ids), model.is_current.is_(True), model.is_published.is_(True))
        .order_by(model.position)
    )
    heavy = _HEAVY_COLUMNS.get(model.__name__, ())
    if heavy and full_session_id is None:
        query = query.options(*[defer(getattr(model, name)) for name in heavy])
    return list(db.session.scalars(query))


def _version_minutes(model: type, version_ids: set[int]) -> dict[int, int]:
    """Estimated minutes of specific (older) versions, in one query, only when any are needed."""
    if not version_ids:
        return {}
    return dict(
        db.session.execute(select(model.id, model.estimated_minutes).where(model.id.in_(version_ids))).all()
    )


def learner_ledger(
    offering: Offering, user_id: int, policy: CreditPolicy, *, full_session_id: int | None = None
) -> LearnerLedger:
    """Both ledgers of one learner, session by session, in a fixed number of queries.

    :param full_session_id: also load the reading and exercise texts of this session (session page).
    """
    sessions = list(
        db.session.scalars(
            select(CourseSession)
            .where(CourseSession.course_id == offering.course_id)
            .order_by(CourseSession.number)
        )
    )
    session_ids = [s.id for s in sessions]
    meetings = {
        m.session_id: m for m in db.session.scalars(select(Meeting).where(Meeting.offering_id == offering.id))
    }
    records = {
        r.meeting_id: r
        for r in db.session.scalars(
            select(AttendanceRecord)
            .join(Meeting, AttendanceRecord.meeting_id == Meeting.id)
            .where(Meeting.offering_id == offering.id, AttendanceRecord.user_id == user_id)
        )
    }
    readings = _current(Reading, session_ids, full_session_id=full_session_id)
    exercises = _current(Exercise, session_ids, full_session_id=full_session_id)
    quizzes = _current(Quiz, session_ids)
    completions = {
        c.reading_key: c
        for c in db.session.scalars(
            select(ReadingCompletion).where(
                ReadingCompletion.user_id == user_id, ReadingCompletion.offering_id == offering.id
            )
        )
    }
    responses = {
        r.exercise_key: r
        for r in db.session.scalars(
            select(ExerciseResponse)
            .where(ExerciseResponse.user_id == user_id, ExerciseResponse.offering_id == offering.id)
            .options(defer(ExerciseResponse.body), defer(ExerciseResponse.body_html))
        )
    }
    attempts: dict[str, list[QuizAttempt]] = {}
    for attempt in db.session.scalars(
        select(QuizAttempt)
        .where(QuizAttempt.user_id == user_id, QuizAttempt.offering_id == offering.id)
        .order_by(QuizAttempt.attempt_no)
    ):
        attempts.setdefault(attempt.quiz_key, []).append(attempt)
    # Work done on an older version counts at that version's estimate (one query per kind, if any).
    current_ids = {r.id for r in readings} | {e.id for e in exercises} | {q.id for q in quizzes}
    reading_minutes = _version_minutes(Reading, {c.reading_id for c in completions.values()} - current_ids)
    exercise_minutes = _version_minutes(Exercise, {r.exercise_id for r in responses.values()} - current_ids)
    quiz_minutes = _version_minutes(
        Quiz, {a.quiz_id for tries in attempts.values() for a in tries if a.passed} - current_ids
    )

    ledger = LearnerLedger(offering=offering, policy=policy)
    for session in sessions:
        meeting = meetings.get(session.id)
        record = records.get(meeting.id) if meeting is not None else None
        attended, credited = credit_for(meeting, record, policy) if meeting is not None else (0, 0)
        s_readings = [(r, completions.get(r.key)) for r in readings if r.session_id == session.id]
        s_exercises = [(e, responses.get(e.key)) for e in exercises if e.session_id == session.id]
        s_quizzes = [(q, attempts.get(q.key, [])) for q in quizzes if q.session_id == session.id]
        items = (
            [
                IndependentItem(
                    IndependentKind.READING,
                    r.key,
                    reading_minutes.get(c.reading_id, r.estimated_minutes) if c else r.estimated_minutes,
                    c is not None,
                )
                for r, c in s_readings
            ]
            + [
                IndependentItem(
                    IndependentKind.EXERCISE,
                    e.key,
                    exercise_minutes.get(x.exercise_id, e.estimated_minutes) if x else e.estimated_minutes,
                    x is not None and x.status is ResponseStatus.SUBMITTED,
                )
                for e, x in s_exercises
            ]
            + [
                IndependentItem(
                    IndependentKind.QUIZ, q.key, _passed_minutes(q, a, quiz_minutes), any(t.passed for t in a)
                )
                for q, a in s_quizzes
            ]
        )
        ledger.sessions.append(
            SessionLedger(
                session=session,
                meeting=meeting,
                attendance=record,
                attended_minutes=attended,
                credited_minutes=credited,
                readings=s_readings,
                exercises=s_exercises,
                quizzes=s_quizzes,
                independent_minutes=independent_minutes(items),
                independent_available=sum(r.estimated_minutes for r, _ in s_readings)
                + sum(e.estimated_minutes for e, _ in s_exercises)
                + sum(q.estimated_minutes for q, _ in s_quizzes),
            )
        )
    return ledger


def _passed_minutes(quiz: Quiz, attempts: list[QuizAttempt], older: dict[int, int]) -> int:
    """A passed quiz counts at the estimate of the version it was passed on."""
    for attempt in attempts:
        if attempt.passed:
            return older.get(attempt.quiz_id, quiz.estimated_minutes)
    return quiz.estimated_minutes
