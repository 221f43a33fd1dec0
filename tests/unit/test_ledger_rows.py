"""The ledger's plain rows: counts, credit through rules.credit, and the live check-in, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from imh_course.models.progress import ResponseStatus
from imh_course.records.content_snapshot import ExerciseInfo, QuizInfo, ReadingInfo, SessionInfo
from imh_course.records.ledgers import (
    AttemptInfo,
    AttendanceInfo,
    CompletionInfo,
    LearnerLedger,
    MeetingInfo,
    ResponseInfo,
    SessionLedger,
    credit_for,
)
from imh_course.rules.credit import AttendanceStatus, CreditPolicy, MeetingWindow
from imh_course.views.learner import live_checkin

T0 = datetime(2026, 3, 3, 17, 0, tzinfo=UTC)
SESSION = SessionInfo(1, "session-01", 1, "Foundations", ("objective",), ("Reflection",), 90)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def reading(n: int) -> ReadingInfo:
    citation = MappingProxyType({"authors": ("A",), "year": "2000", "title": "T", "venue": "V"})
    return ReadingInfo(n, f"r{n}", 1, f"Reading {n}", 10, citation, (), (), "<p>text</p>")


def row(**overrides: object) -> SessionLedger:
    values: dict[str, object] = {
        "session": SESSION,
        "meeting": MeetingInfo(7, 1, minutes(0), minutes(90), True),
        "attendance": None,
        "attended_minutes": 0,
        "credited_minutes": 0,
        "readings": [(reading(1), CompletionInfo("r1", 1, T0)), (reading(2), None)],
        "exercises": [
            (
                ExerciseInfo(3, "e1", 1, "Exercise", "reflective", 15),
                ResponseInfo("e1", 3, ResponseStatus.DRAFT),
            )
        ],
        "quizzes": [
            (
                QuizInfo(4, "q1", 1, "Quiz", 10, 80, 3, 5),
                [AttemptInfo("q1", 4, 1, 40, False), AttemptInfo("q1", 4, 2, 100, True)],
            )
        ],
        "independent_minutes": 0,
        "independent_available": 45,
    }
    values.update(overrides)
    return SessionLedger(**values)  # type: ignore[arg-type]


def test_counts_follow_the_rules_of_done_work():
    """A completion counts, a draft does not, a quiz counts once if any attempt passed."""
    r = row()
    assert (r.readings_done, r.exercises_submitted, r.quizzes_passed) == (1, 0, 1)
    assert not r.independent_complete
    submitted = row(
        readings=[(reading(1), CompletionInfo("r1", 1, T0))],
        exercises=[
            (
                ExerciseInfo(3, "e1", 1, "Exercise", "reflective", 15),
                ResponseInfo("e1", 3, ResponseStatus.SUBMITTED),
            )
        ],
    )
    assert submitted.exercises_submitted == 1 and submitted.independent_complete


def test_a_sign_in_without_a_sign_out_is_awaiting_and_credits_nothing():
    meeting = MeetingInfo(7, 1, minutes(0), minutes(90), True)
    record = AttendanceInfo(1, 7, AttendanceStatus.PRESENT, minutes(-5), None)
    assert credit_for(meeting, record, CreditPolicy()) == (0, 0)
    assert row(attendance=record).awaiting_sign_out


def test_credit_comes_from_rules_credit_for_plain_rows():
    """Attended minutes are the overlap with the meeting; credit is rounded down to 15-minute steps."""
    meeting = MeetingInfo(7, 1, minutes(0), minutes(90), True)
    record = AttendanceInfo(1, 7, AttendanceStatus.LATE, minutes(8), minutes(120))
    assert credit_for(meeting, record, CreditPolicy()) == (82, 75)
    not_eligible = MeetingInfo(7, 1, minutes(0), minutes(90), False)
    assert credit_for(not_eligible, record, CreditPolicy()) == (82, 0)


def test_meeting_length_matches_the_credit_engine():
    meeting = MeetingInfo(7, 1, minutes(0), minutes(90) + timedelta(seconds=59), True)
    window = MeetingWindow(7, meeting.start_dt, meeting.end_dt)
    assert meeting.length_minutes == window.length_minutes == 90


def test_live_checkin_is_the_most_recently_opened_meeting_within_its_hours():
    now = minutes(10)
    opened_early = row(meeting=MeetingInfo(1, 1, minutes(0), minutes(90), True, minutes(-20)))
    opened_late = row(meeting=MeetingInfo(2, 2, minutes(0), minutes(90), True, minutes(-5)))
    long_over = row(meeting=MeetingInfo(3, 3, minutes(-600), minutes(-510), True, minutes(1)))
    closed = row(meeting=MeetingInfo(4, 4, minutes(0), minutes(90), True, None))
    ledger = LearnerLedger(offering=None, policy=CreditPolicy())  # type: ignore[arg-type]
    ledger.sessions = [opened_early, opened_late, long_over, closed]
    assert live_checkin(ledger, now) is opened_late
    ledger.sessions = [long_over, closed]
    assert live_checkin(ledger, now) is None
    assert live_checkin(ledger, minutes(-600)) is long_over
