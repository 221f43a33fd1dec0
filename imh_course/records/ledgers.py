"""The two ledgers of one learner in one offering, assembled with a fixed, small number of queries.

CE contact hours come only from attendance records (through rules.credit); independent learning
only from completed readings, submitted exercises and passed quizzes. The two totals are computed
by separate functions from separate inputs, so no code path can add one to the other.

The course's content comes from the per-process snapshot (``content_snapshot.py``); what is the
learner's own (attendance, completions, responses, attempts) is read per request by
``learner_records.py``, two queries in all. Rows are frozen values, not ORM objects: the pages only
read them, and loading entities (with their identity map and change tracking) was most of the cost.
The row types (``MeetingInfo`` …) can be imported from here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from ..extensions import db
from ..models.attendance import AttendanceRecord
from ..models.curriculum import Exercise, Quiz, Reading
from ..models.offerings import Meeting, Offering
from ..models.progress import ResponseStatus
from ..models.types import utcnow
from ..rules.ce_standing import CeStanding, FaceToFace, face_to_face
from ..rules.completion import CompletionPolicy
from ..rules.credit import (
    AttendanceStatus,
    CreditMode,
    CreditPolicy,
    IndependentItem,
    IndependentKind,
    MeetingWindow,
    independent_minutes,
    meeting_credit,
    minutes_to_hours,
)
from .content_snapshot import (
    CourseSnapshot,
    ExerciseInfo,
    QuizInfo,
    ReadingInfo,
    SessionInfo,
    course_snapshot,
)
from .learner_records import (
    AttemptInfo,
    AttendanceInfo,
    CompletionInfo,
    MeetingInfo,
    ResponseInfo,
    meetings_of,
    work_of,
)

#: Hours of independent learning are plain clock hours (60 minutes), never CE hours.
_CLOCK = CreditPolicy(minutes_per_hour=60)


def credit_policy(config: Mapping[str, Any]) -> CreditPolicy:
    """The credit policy from the app's settings (DOMAIN.md defaults)."""
    return CreditPolicy(
        mode=CreditMode(config["IMH_CREDIT_MODE"]),
        minutes_per_hour=int(config["IMH_MINUTES_PER_CE_HOUR"]),
        increment_minutes=int(config["IMH_CREDIT_INCREMENT_MINUTES"]),
        grace_minutes=int(config["IMH_CREDIT_GRACE_MINUTES"]),
    )


def completion_policy(config: Mapping[str, Any]) -> CompletionPolicy:
    """What completion requires in this deployment (``IMH_COMPLETION_MIN_MEETINGS``)."""
    return CompletionPolicy(min_meetings=int(config["IMH_COMPLETION_MIN_MEETINGS"]))


def meeting_window(meeting: Meeting | MeetingInfo) -> MeetingWindow:
    return MeetingWindow(
        meeting_id=meeting.id, start=meeting.start_dt, end=meeting.end_dt, ce_eligible=meeting.is_ce_eligible
    )


def credit_for(
    meeting: Meeting | MeetingInfo, record: AttendanceRecord | AttendanceInfo | None, policy: CreditPolicy
) -> tuple[int, int]:
    """(attended minutes, credited minutes) of one learner at one meeting."""
    if record is None:
        return 0, 0
    return meeting_credit(meeting_window(meeting), policy)(
        AttendanceStatus(record.status), record.arrived_dt, record.departed_dt
    )


@dataclass(slots=True)
class SessionLedger:
    """One row of the transcript: a session, its meeting and what the learner did."""

    session: SessionInfo
    meeting: MeetingInfo | None
    attendance: AttendanceInfo | None
    attended_minutes: int
    credited_minutes: int
    readings: list[tuple[ReadingInfo, CompletionInfo | None]]
    exercises: list[tuple[ExerciseInfo, ResponseInfo | None]]
    quizzes: list[tuple[QuizInfo, list[AttemptInfo]]]
    independent_minutes: int
    independent_available: int
    #: the meeting is over (as of when the ledger was assembled)
    is_past: bool = False
    readings_done: int = field(init=False)
    exercises_submitted: int = field(init=False)
    quizzes_passed: int = field(init=False)

    def __post_init__(self) -> None:
        # Counted once: the pages read them several times per row.
        self.readings_done = sum(1 for _r, done in self.readings if done is not None)
        self.exercises_submitted = sum(
            1 for _e, resp in self.exercises if resp is not None and resp.status is ResponseStatus.SUBMITTED
        )
        self.quizzes_passed = sum(1 for _q, attempts in self.quizzes if any(a.passed for a in attempts))

    @property
    def attended(self) -> bool:
        return self.credited_minutes > 0

    @property
    def awaiting_sign_out(self) -> bool:
        record = self.attendance
        return record is not None and record.arrived_dt is not None and record.departed_dt is None

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
    #: the course's title (from the content snapshot, so pages need not load the course)
    course_title: str = ""

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
        return minutes_to_hours(self.independent_minutes, _CLOCK)

    @property
    def independent_available_hours(self) -> Decimal:
        return minutes_to_hours(self.independent_available_minutes, _CLOCK)

    @property
    def attended_clock_minutes(self) -> int:
        return sum(s.attended_minutes for s in self.sessions)

    @property
    def scheduled_minutes(self) -> int:
        """Every scheduled meeting's length (face-to-face clock time, CE-eligible or not)."""
        return sum(s.meeting.length_minutes for s in self.sessions if s.meeting is not None)

    def face_to_face(self, standing: CeStanding) -> FaceToFace:
        """The face-to-face total as ``standing`` labels it: CE contact hours or clock hours, not CE."""
        return face_to_face(
            standing,
            credited_minutes=self.ce_minutes,
            attended_minutes=self.attended_clock_minutes,
            scheduled_ce_minutes=self.scheduled_ce_minutes,
            scheduled_minutes=self.scheduled_minutes,
            policy=self.policy,
        )

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


# --- assembling ------------------------------------------------------------------------------------


def _version_minutes(known: Mapping[int, int], model: type, version_id: int, fallback: int) -> int:
    """Estimated minutes of the version work was done on (a query only for a version the snapshot
    does not hold, which means it belongs to another course: not expected, but still counted right)."""
    minutes = known.get(version_id)
    if minutes is None:
        minutes = db.session.scalar(select(model.estimated_minutes).where(model.id == version_id))
    return fallback if minutes is None else minutes


def learner_ledger(
    offering: Offering,
    user_id: int,
    policy: CreditPolicy,
    *,
    snapshot: CourseSnapshot | None = None,
    now: datetime | None = None,
) -> LearnerLedger:
    """Both ledgers of one learner, session by session: two queries besides the content snapshot.

    :param snapshot: the course's content snapshot, when the caller already has it (else it is
        looked up, one query to check its revision).
    :param now: the moment that decides which meetings are past (default: now).
    """
    if snapshot is None:
        snapshot = course_snapshot(offering.course_id)
    now = utcnow() if now is None else now
    meetings = meetings_of(offering.id, user_id)
    work = work_of(offering.id, user_id)
    ledger = LearnerLedger(offering=offering, policy=policy, course_title=snapshot.title)
    for content in snapshot.sessions:
        session = content.session
        meeting, record = meetings.get(session.id, (None, None))
        attended, credited = credit_for(meeting, record, policy) if meeting is not None else (0, 0)
        s_readings = [(r, work.completions.get(r.key)) for r in content.readings]
        s_exercises = [(e, work.responses.get(e.key)) for e in content.exercises]
        s_quizzes = [(q, work.attempts.get(q.key, [])) for q in content.quizzes]
        # Work done on an older version counts at that version's estimate.
        items = (
            [
                IndependentItem(
                    IndependentKind.READING,
                    r.key,
                    _version_minutes(snapshot.reading_minutes, Reading, c.reading_id, r.estimated_minutes)
                    if c
                    else r.estimated_minutes,
                    c is not None,
                )
                for r, c in s_readings
            ]
            + [
                IndependentItem(
                    IndependentKind.EXERCISE,
                    e.key,
                    _version_minutes(snapshot.exercise_minutes, Exercise, x.exercise_id, e.estimated_minutes)
                    if x
                    else e.estimated_minutes,
                    x is not None and x.status is ResponseStatus.SUBMITTED,
                )
                for e, x in s_exercises
            ]
            + [
                IndependentItem(
                    IndependentKind.QUIZ, q.key, _passed_minutes(q, a, snapshot), any(t.passed for t in a)
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
                independent_available=content.available_minutes,
                is_past=meeting is not None and meeting.end_dt <= now,
            )
        )
    return ledger


def _passed_minutes(quiz: QuizInfo, attempts: list[AttemptInfo], snapshot: CourseSnapshot) -> int:
    """A passed quiz counts at the estimate of the version it was passed on."""
    for attempt in attempts:
        if attempt.passed:
            return _version_minutes(snapshot.quiz_minutes, Quiz, attempt.quiz_id, quiz.estimated_minutes)
    return quiz.estimated_minutes
