"""The learner's own rows behind the ledgers, read as plain frozen values in two queries.

Split from ``ledgers.py`` (the house's ~400-line rule): this module reads, ``ledgers.py`` assembles.
One query brings the offering's meetings with the learner's attendance record and any open check-in
window (outer joins); one UNION ALL brings the learner's reading completions, exercise responses and
quiz attempts. Both statements are built once, on Core columns: building a statement and running it
through the ORM cost more than the query itself (measured: 320 µs -> 95 µs for the meetings on
SQLite), and the pages only read these rows, so ORM entities (identity map, change tracking) would
buy nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Integer,
    String,
    and_,
    bindparam,
    cast,
    literal_column,
    null,
    select,
    union_all,
)

from ..extensions import db
from ..models.attendance import AttendanceRecord, CheckInWindow
from ..models.offerings import Meeting
from ..models.progress import ExerciseResponse, ReadingCompletion, ResponseStatus
from ..models.quizzes import QuizAttempt
from ..models.types import UTCDateTime
from ..rules.credit import AttendanceStatus


@dataclass(frozen=True, slots=True)
class MeetingInfo:
    """A meeting of the offering (the columns the ledger and the learner's pages use)."""

    id: int
    session_id: int
    start_dt: datetime
    end_dt: datetime
    is_ce_eligible: bool
    #: when the meeting's self check-in was opened, while it is open (else None)
    checkin_opened_dt: datetime | None = None

    @property
    def length_minutes(self) -> int:
        return int((self.end_dt - self.start_dt).total_seconds() // 60)


@dataclass(frozen=True, slots=True)
class AttendanceInfo:
    """The learner's attendance record for one meeting."""

    id: int
    meeting_id: int
    status: AttendanceStatus
    arrived_dt: datetime | None
    departed_dt: datetime | None


@dataclass(frozen=True, slots=True)
class CompletionInfo:
    """A reading the learner marked as read, on the version ``reading_id``."""

    reading_key: str
    reading_id: int
    completed_dt: datetime


@dataclass(frozen=True, slots=True)
class ResponseInfo:
    """The learner's response to an exercise (draft or submitted), on the version ``exercise_id``."""

    exercise_key: str
    exercise_id: int
    status: ResponseStatus


@dataclass(frozen=True, slots=True)
class AttemptInfo:
    """One graded quiz attempt, on the version ``quiz_id``."""

    quiz_key: str
    quiz_id: int
    attempt_no: int
    percent: int
    passed: bool


_m, _a, _w = Meeting.__table__.c, AttendanceRecord.__table__.c, CheckInWindow.__table__.c
_MEETINGS = (
    select(
        _m.id,
        _m.session_id,
        _m.start_dt,
        _m.end_dt,
        _m.is_ce_eligible,
        _w.opened_dt,
        _a.id,
        _a.status,
        _a.arrived_dt,
        _a.departed_dt,
    )
    .select_from(
        Meeting.__table__.outerjoin(
            AttendanceRecord.__table__, and_(_a.meeting_id == _m.id, _a.user_id == bindparam("user_id"))
        ).outerjoin(CheckInWindow.__table__, and_(_w.meeting_id == _m.id, _w.closed_dt.is_(None)))
    )
    .where(_m.offering_id == bindparam("offering_id"))
    .order_by(_m.start_dt, _m.id)
)


def meetings_of(offering_id: int, user_id: int) -> dict[int, tuple[MeetingInfo, AttendanceInfo | None]]:
    """The offering's meetings by session, each with the learner's record and open check-in (one query)."""
    meetings: dict[int, tuple[MeetingInfo, AttendanceInfo | None]] = {}
    params = {"offering_id": offering_id, "user_id": user_id}
    for m_id, session_id, start, end, eligible, opened, r_id, status, arrived, departed in db.session.execute(
        _MEETINGS, params
    ):
        record = AttendanceInfo(r_id, m_id, status, arrived, departed) if r_id is not None else None
        meetings[session_id] = (MeetingInfo(m_id, session_id, start, end, eligible, opened), record)
    return meetings


def _learner_work_query() -> Any:
    """The learner's completions, responses and attempts in one UNION ALL of three narrow selects
    (kind, key, version id, then each kind's own columns, NULL elsewhere): one round trip instead of
    three, which is what counted on PostgreSQL. Attempts come in attempt order."""
    rc, er, qa = ReadingCompletion.__table__.c, ExerciseResponse.__table__.c, QuizAttempt.__table__.c
    no_dt, no_str = cast(null(), UTCDateTime()), cast(null(), String(30))
    no_int, no_bool = cast(null(), Integer()), cast(null(), Boolean())
    user, offering = bindparam("user_id"), bindparam("offering_id")
    return union_all(
        select(
            literal_column("'r'", String).label("kind"),
            rc.reading_key.label("key"),
            rc.reading_id.label("item_id"),
            rc.completed_dt.label("at"),
            no_str.label("status"),
            no_int.label("attempt_no"),
            no_int.label("percent"),
            no_bool.label("passed"),
        ).where(rc.user_id == user, rc.offering_id == offering),
        select(
            literal_column("'e'", String),
            er.exercise_key,
            er.exercise_id,
            no_dt,
            er.status,
            no_int,
            no_int,
            no_bool,
        ).where(er.user_id == user, er.offering_id == offering),
        select(
            literal_column("'q'", String),
            qa.quiz_key,
            qa.quiz_id,
            no_dt,
            no_str,
            qa.attempt_no,
            qa.percent,
            qa.passed,
        ).where(qa.user_id == user, qa.offering_id == offering),
    ).order_by("attempt_no")


_WORK = _learner_work_query()


@dataclass
class LearnerWork:
    """The learner's completions and responses by item key, and attempts by quiz key (in order)."""

    completions: dict[str, CompletionInfo] = field(default_factory=dict)
    responses: dict[str, ResponseInfo] = field(default_factory=dict)
    attempts: dict[str, list[AttemptInfo]] = field(default_factory=dict)


def work_of(offering_id: int, user_id: int) -> LearnerWork:
    """The learner's completions, responses and attempts in this offering (one query)."""
    work = LearnerWork()
    params = {"offering_id": offering_id, "user_id": user_id}
    for kind, key, item_id, at, status, attempt_no, percent, passed in db.session.execute(_WORK, params):
        if kind == "r":
            work.completions[key] = CompletionInfo(key, item_id, at)
        elif kind == "e":
            work.responses[key] = ResponseInfo(key, item_id, ResponseStatus(status))
        else:
            work.attempts.setdefault(key, []).append(
                AttemptInfo(key, item_id, attempt_no, percent, bool(passed))
            )
    return work
