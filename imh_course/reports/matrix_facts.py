"""The facts behind the completion matrix, as plain values, tallied per learner and session.

``matrix_data`` reads them from the database (a fixed number of statements per offering or per
chunk of learners) and hands the rows over as plain tuples; :class:`LearnerFacts` tallies them
into a :class:`Tally` per learner: columns indexed like ``frame.sessions``, so totals are column sums
and nothing is allocated per cell. ``matrix.build_rows`` turns the tallies into rows.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..models.certificates import CertificateStatus
from ..models.offerings import EnrolmentStatus, Funding
from ..rules.completion import CertificateKind
from ..rules.credit import (
    AttendanceStatus,
    CreditPolicy,
    IndependentKind,
    MeetingWindow,
    RecordCredit,
    meeting_credit,
)
from ..rules.licenses import Approval


# --- preloaded facts (plain values) ---------------------------------------------------------------
@dataclass(frozen=True)
class SessionInfo:
    id: int
    number: int
    title: str


@dataclass(frozen=True)
class ItemInfo:
    """A current, published reading, exercise or quiz of a session."""

    key: str
    session_id: int
    minutes: int


@dataclass(frozen=True)
class OfferingFrame:
    """What every learner of an offering shares: sessions, meetings, assigned work, approvals."""

    offering_id: int
    timezone: str
    sessions: tuple[SessionInfo, ...]
    meetings: dict[int, MeetingWindow]  # by session id
    readings: tuple[ItemInfo, ...]
    exercises: tuple[ItemInfo, ...]
    quizzes: tuple[ItemInfo, ...]
    approvals: tuple[Approval, ...]


@dataclass(frozen=True, slots=True)
class LearnerInfo:
    user_id: int
    name: str  # as printed on certificates
    email: str
    discipline: str | None
    license_type: str | None
    license_number: str | None
    funding: Funding
    status: EnrolmentStatus
    erased: bool = False


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    public_id: str
    version: int
    kind: CertificateKind
    status: CertificateStatus
    issued_dt: datetime


class Tally:
    """One learner's numbers per session, as columns in the order of ``frame.sessions``.

    Columns rather than one object per cell: a 1,000-learner offering has 11,000 cells, and the
    totals (``sum``, ``count``) then run over the columns. The numbers are typed arrays, which the
    garbage collector does not track: a large report keeps two tracked objects per learner, not
    nine, so it sets off fewer full collections of the whole process's heap. The independent-work
    columns start as the shared ``zeros`` (never written to) and get their own array on the first
    count, so the CE roster, which reads attendance only (and independent work for a few
    certificate-of-completion learners), mostly never builds them.
    """

    __slots__ = ("status", "attended", "credited", "awaiting", "read", "submitted", "passed", "attempted")

    def __init__(self, zeros: array[int]) -> None:
        self.status: list[AttendanceStatus | None] = [None] * len(zeros)  # None: no attendance record
        self.attended = zeros[:]
        self.credited = zeros[:]
        self.awaiting = zeros[:]  # 1: signed in, no sign-out yet
        self.read = self.submitted = self.passed = self.attempted = zeros

    def own(self, column: str, zeros: array[int]) -> array[int]:
        """The ``column`` array, made this learner's own before its first count."""
        counts: array[int] = getattr(self, column)
        if counts is zeros:
            counts = zeros[:]
            setattr(self, column, counts)
        return counts


def zeros(sessions: int) -> array[int]:
    """A column of zeros, one per session (minutes and counts stay far below 2**31)."""
    return array("i", [0]) * sessions


#: A decoded attendance record: (session index, status, attended, credited, awaiting sign-out).
_Credit = tuple[int, AttendanceStatus, int, int, bool]
_Decode = Callable[[Any, Any, Any], tuple[AttendanceStatus, datetime | None, datetime | None]]


def _keep(
    status: Any, arrived: Any, departed: Any
) -> tuple[AttendanceStatus, datetime | None, datetime | None]:
    return status, arrived, departed


class LearnerFacts:
    """The facts of one offering's learners (or of one chunk of them), tallied per learner and session.

    Rows come in as plain tuples, straight from the database cursor. Each attendance record is
    credited by ``rules.credit.meeting_credit`` (the per-record rules, with the meeting read once);
    identical records (same meeting, status and times: most of a cohort) are decoded and credited
    once. Only done independent items are kept, for ``rules.credit.independent_minutes_by``.
    """

    def __init__(self, frame: OfferingFrame, policy: CreditPolicy) -> None:
        self.sessions = len(frame.sessions)
        self.zeros = zeros(self.sessions)  # shared by the tallies until written (see Tally)
        position = {s.id: i for i, s in enumerate(frame.sessions)}
        self._meetings: dict[int, tuple[int, RecordCredit]] = {
            window.meeting_id: (position[session_id], meeting_credit(window, policy))
            for session_id, window in frame.meetings.items()
            if session_id in position
        }
        self._items = {
            kind: _positions(items, position)
            for kind, items in (
                (IndependentKind.READING, frame.readings),
                (IndependentKind.EXERCISE, frame.exercises),
                (IndependentKind.QUIZ, frame.quizzes),
            )
        }
        self._credits: dict[tuple[Any, ...], _Credit | None] = {}
        self.tallies: dict[int, Tally] = {}
        #: done items of each kind as (user id, key, minutes), for ``rules.credit.independent_minutes_by``
        self.done: dict[IndependentKind, list[tuple[int, str, int]]] = {kind: [] for kind in IndependentKind}
        self.evaluated: set[int] = set()
        self.attested_minutes: dict[int, int] = {}
        self.certificates: dict[int, list[CertificateInfo]] = defaultdict(list)

    # Rows are (offering id, user id, …): the loader routes each offering's rows to its facts, and
    # the offering id is not read again. The loops are written out (no helper call per row): they
    # run once per database row, ~45,000 times for a 1,000-learner offering.

    def tally(self, user_id: int) -> Tally:
        found = self.tallies.get(user_id)
        if found is None:
            found = self.tallies[user_id] = Tally(self.zeros)
        return found

    def _credit(
        self, meeting_id: int, status: Any, arrived: Any, departed: Any, decode: _Decode
    ) -> _Credit | None:
        meeting = self._meetings.get(meeting_id)
        if meeting is None:  # another offering's meeting, or a session outside the course
            return None
        index, credit = meeting
        status, arrived, departed = decode(status, arrived, departed)
        attended, credited = credit(status, arrived, departed)
        return index, status, attended, credited, arrived is not None and departed is None

    def add_attendance(self, rows: Iterable[Sequence[Any]], decode: _Decode = _keep) -> None:
        """``(offering id, user id, meeting id, status, arrived, departed)`` rows; ``decode`` turns
        stored values into (AttendanceStatus, aware datetime, aware datetime), once per distinct record."""
        credits, tallies, zeros = self._credits, self.tallies, self.zeros
        for _offering, user_id, meeting_id, status, arrived, departed in rows:
            key = (meeting_id, status, arrived, departed)
            if key in credits:
                found = credits[key]
            else:
                found = credits[key] = self._credit(meeting_id, status, arrived, departed, decode)
            if found is None:
                continue
            index, state, attended, credited, awaiting = found
            tally = tallies.get(user_id)
            if tally is None:
                tally = tallies[user_id] = Tally(zeros)
            tally.status[index] = state
            tally.attended[index] = attended
            tally.credited[index] = credited
            tally.awaiting[index] = awaiting

    def add_readings(self, rows: Iterable[Sequence[Any]]) -> None:
        """``(offering id, user id, reading key, minutes of the version read)`` of completed readings."""
        self._count(rows, IndependentKind.READING, "read")

    def add_responses(self, rows: Iterable[Sequence[Any]]) -> None:
        """``(offering id, user id, exercise key, minutes)`` of *submitted* responses (not drafts)."""
        self._count(rows, IndependentKind.EXERCISE, "submitted")

    def _count(self, rows: Iterable[Sequence[Any]], kind: IndependentKind, column: str) -> None:
        where, zeros, done = self._items[kind], self.zeros, self.done[kind]
        last, counts = None, zeros
        for _offering, user_id, key, minutes in rows:
            indexes = where.get(key)
            if indexes is None:  # retired or unpublished since: not part of the course now
                continue
            if user_id != last:  # a learner's rows mostly come together: one look-up for them all
                last, counts = user_id, self.tally(user_id).own(column, zeros)
            for index in indexes:
                counts[index] += 1
                done.append((user_id, key, minutes))

    def add_attempts(self, rows: Iterable[Sequence[Any]]) -> None:
        """``(offering id, user id, quiz key, passed, minutes)`` of quiz attempts, ordered by learner,
        quiz and attempt number: a quiz counts once as attempted and, once passed, at the estimate of
        the version it was first passed on."""
        where, done = self._items[IndependentKind.QUIZ], self.done[IndependentKind.QUIZ]
        current: tuple[int, str] | None = None
        passed_before = False
        indexes: tuple[int, ...] = ()
        tally = None
        for _offering, user_id, key, passed, minutes in rows:
            if (user_id, key) != current:
                current, passed_before = (user_id, key), False
                indexes = where.get(key, ())
                tally = self.tally(user_id) if indexes else None
                if tally is not None:
                    attempted = tally.own("attempted", self.zeros)
                    for index in indexes:
                        attempted[index] += 1
            if passed and not passed_before and tally is not None:
                passed_before = True
                counts = tally.own("passed", self.zeros)
                for index in indexes:
                    counts[index] += 1
                    done.append((user_id, key, minutes))

    def add_certificates(self, rows: Iterable[Sequence[Any]]) -> None:
        """``(offering id, user id, public id, version, kind, status, issued)`` of each version."""
        for _offering, user_id, *info in rows:
            self.certificates[user_id].append(CertificateInfo(*info))


def _positions(items: Iterable[ItemInfo], position: dict[int, int]) -> dict[str, tuple[int, ...]]:
    """Item key -> the session indexes listing it (one, since a key has one current version)."""
    found: dict[str, tuple[int, ...]] = {}
    for item in items:
        if item.session_id in position:
            found[item.key] = (*found.get(item.key, ()), position[item.session_id])
    return found
