"""A per-process snapshot of one offering's completion matrix, kept correct across worker processes.

Why: the matrix page builds every learner's row (to sort, filter, count and draw the funnel) and
then shows 100. For 1,000 learners that is ~45,000 fact rows read and tallied on every request,
although a coordinator mostly pages, sorts and filters between two writes. The snapshot keeps the
built rows, the chart counts, the stale-certificate findings and each (filter, sort) order, so a
request costs what its page costs, not what the cohort costs.

How it stays correct with several workers (the pattern of ``content_snapshot.py``):

* ``Offering.matrix_revision`` holds a random value, replaced **in the same transaction** as every
  write to what the matrix shows, as that transaction's last statement (``before_commit``). A
  ``before_flush`` hook notes the offerings of every ORM write (:func:`_note_matrix_writes`):
  any row with an ``offering_id`` (enrolments, progress, quiz
  attempts, certificates, evaluation, attestation, meetings, approvals, audit events), attendance
  records (through their meeting), the offering itself, and the names, emails and profiles of
  people (every offering then: they are rare). Core statements that write those tables call
  :func:`bump_matrix_revision` themselves (the bench seed's bulk inserts).
* The key also holds the course's ``content_revision`` (readings, exercises, quizzes published)
  and the end of the next meeting: rows depend on which meetings are over, so a snapshot is not
  used past the moment the next meeting ends.
* A request reads the key (one statement) and uses the cached snapshot only if it was built for
  that key; a worker that missed a change notices on its very next request. A snapshot is cached
  only if the key still reads the same after it was built (a write committed meanwhile leaves no
  half-old snapshot behind). Revisions are random, so a rolled-back write never names a state.

Only the matrix page reads it. Exports, bulk issue and the drill-down build their rows afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from datetime import datetime
from itertools import chain
from threading import Lock
from typing import Any

from flask import current_app
from markupsafe import Markup
from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session

from ..extensions import db
from ..models.accounts import LearnerProfile, User
from ..models.attendance import AttendanceRecord
from ..models.curriculum import Course, new_content_revision
from ..models.offerings import Enrolment, Meeting, Offering
from ..models.types import utcnow
from .charts import SessionCount, attendance_bars, column_chart, funnel_bars, funnel_chart, session_counts
from .matrix import LearnerRow
from .matrix_data import Matrix, load_matrix, policies
from .matrix_filters import filter_rows, sort_rows

#: Key of the per-app cache in ``app.extensions`` (one cache per app: tests build many apps).
_CACHE_KEY = "imh_course.matrix_snapshots"
#: Offerings kept per process, and (filter, sort) orders kept per snapshot.
_OFFERINGS, _VIEWS = 32, 64
#: Attributes of a person the matrix shows (a sign-in's ``last_signin_dt`` changes nothing there).
_PERSON_FIELDS = ("full_name", "email", "erased_dt")


# --- keeping the revision -------------------------------------------------------------------------
def bump_matrix_revision(offering_ids: Iterable[int] | None = None) -> None:
    """Give the offerings (every offering when None) a new matrix revision, in the caller's
    transaction: every worker's cached matrix of them is stale once it commits (not before)."""
    statement = update(Offering).values(matrix_revision=new_content_revision())
    if offering_ids is not None:
        ids = sorted(set(offering_ids))
        if not ids:
            return
        statement = statement.where(Offering.id.in_(ids))
    db.session.execute(statement, execution_options={"synchronize_session": False})


def _changed(session: Session, obj: object, fields: tuple[str, ...] | None = None) -> bool:
    if fields is None:
        return session.is_modified(obj, include_collections=False)
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in fields)


def _values(obj: object, name: str) -> set[Any]:
    """The attribute's current value and, for a changed row, its previous one."""
    history = inspect(obj).attrs[name].history
    return {v for v in chain(history.added, history.unchanged, history.deleted) if v is not None}


def _touched(session: Session) -> tuple[bool, set[int], set[int], set[int]]:
    """(every offering, offering ids, meeting ids, learner ids) a flush writes matrix facts of."""
    everything, offerings, meetings, learners = False, set(), set(), set()
    new, deleted = set(session.new), set(session.deleted)
    for obj in chain(new, session.dirty, deleted):
        written = obj in new or obj in deleted
        if isinstance(obj, Offering):
            if not written and _changed(session, obj):
                offerings.add(obj.id)
        elif isinstance(obj, User):
            everything |= obj not in new and (obj in deleted or _changed(session, obj, _PERSON_FIELDS))
        elif isinstance(obj, LearnerProfile):
            everything |= written or _changed(session, obj)
        elif isinstance(obj, AttendanceRecord):
            if written or _changed(session, obj):
                found = _values(obj, "meeting_id")
                meetings |= found
                everything |= not found  # attached through a relationship only: be safe
        elif hasattr(obj, "offering_id") and (written or _changed(session, obj)):
            found = _values(obj, "offering_id")
            offerings |= found
            if not found and getattr(obj, "learner_id", None) is not None:  # an audit event of a learner
                learners.add(obj.learner_id)
            elif not found and not hasattr(obj, "learner_id"):
                everything = True  # attached through a relationship only: be safe
    return everything, offerings, meetings, learners


_PENDING = "imh_course.matrix_pending"


@event.listens_for(Session, "before_flush")
def _note_matrix_writes(session: Session, _context: object, _instances: object) -> None:
    """Every ORM write to what a completion matrix shows: note its offerings, bumped at commit."""
    everything, offerings, meetings, learners = _touched(session)
    if everything or offerings or meetings or learners:
        pending = session.info.setdefault(_PENDING, [False, set(), set(), set()])
        pending[0] = pending[0] or everything
        pending[1] |= offerings
        pending[2] |= meetings
        pending[3] |= learners


@event.listens_for(Session, "before_commit")
def _bump_before_commit(session: Session) -> None:
    """The noted offerings get their new revision as the transaction's last statement: the row lock
    on the offering is then held only while committing, and a transaction takes no other lock after
    it (no lock-order deadlock between, say, an attendance mark and a check-in on PostgreSQL; writes
    to one offering are not serialised for the whole length of their transactions). Savepoints
    releasing do not bump: their writes are the enclosing transaction's."""
    if session.in_nested_transaction():
        return
    session.flush()  # the last writes are noted too
    apply_pending(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_on_end(session: Session, transaction: object) -> None:
    if getattr(transaction, "parent", None) is None:  # the whole transaction ended (rolled back or not)
        session.info.pop(_PENDING, None)


def apply_pending(session: Session) -> None:
    """Bump the offerings this transaction wrote matrix facts of, now (at commit, or before this
    transaction reads a matrix snapshot: a snapshot is never keyed by a revision its data is newer than)."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    everything, offerings, meetings, learners = pending
    statement = update(Offering).values(matrix_revision=new_content_revision())
    if not everything:
        condition = Offering.id.in_(sorted(offerings))
        if meetings:
            condition |= Offering.id.in_(select(Meeting.offering_id).where(Meeting.id.in_(sorted(meetings))))
        if learners:
            condition |= Offering.id.in_(
                select(Enrolment.offering_id).where(Enrolment.user_id.in_(sorted(learners)))
            )
        statement = statement.where(condition)
    session.connection().execute(statement)


def current_key(offering_id: int) -> tuple[str, str] | None:
    """(matrix revision, content revision) as committed (or as written by this transaction)."""
    row = db.session.execute(
        select(Offering.matrix_revision, Course.content_revision)
        .join(Course, Course.id == Offering.course_id)
        .where(Offering.id == offering_id)
    ).first()
    return None if row is None else (row[0], row[1])


# --- the snapshot ---------------------------------------------------------------------------------
class MatrixSnapshot:
    """One offering's matrix as of ``key``: rows, chart counts, charts, stale certificates, and the
    (filter, sort) orders asked for so far. Shared by a worker's threads: nothing in it changes
    after it is built except the memo of orders (filled idempotently)."""

    def __init__(self, key: tuple[str, str], matrix: Matrix, now: datetime, stale: dict[int, Any]) -> None:
        _policy, completion = policies()
        self.key = key
        self.matrix = matrix
        #: the end of the next meeting: after it, rows (past/remaining meetings) change
        self.valid_until = min((w.end for w in matrix.frame.meetings.values() if w.end > now), default=None)
        self.counts: list[SessionCount] = session_counts(matrix.frame, matrix.rows)
        self.funnel = funnel_bars(matrix.rows, completion.min_meetings)
        self.attendance_chart: Markup = column_chart(
            "attendance-chart", "Learners credited per session", attendance_bars(self.counts)
        )
        self.funnel_chart: Markup = funnel_chart("funnel-chart", "Completion funnel", self.funnel)
        self.stale = stale
        self._views: dict[Hashable, list[LearnerRow]] = {}
        self.fragments: dict[Hashable, Markup] = {}  # the page's own per-row memo (views/completion.py)

    def usable(self, key: tuple[str, str], now: datetime) -> bool:
        return key == self.key and (self.valid_until is None or now < self.valid_until)

    def view(self, license_type: str, at_risk: bool, not_issued: bool, sort: str, descending: bool):
        """The rows matching the filters, in the sort's order (worked out once per combination)."""
        wanted = (license_type, at_risk, not_issued, sort, descending)
        found = self._views.get(wanted)
        if found is None:
            kept = filter_rows(
                self.matrix.rows, license_type=license_type, at_risk=at_risk, not_issued=not_issued
            )
            found = sort_rows(kept, sort, descending)
            if len(self._views) >= _VIEWS:
                self._views.clear()
            self._views[wanted] = found
        return found


_lock = Lock()


def matrix_snapshot(
    offering: Offering, stale_of: Callable[[Offering, list[LearnerRow]], dict[int, Any]]
) -> MatrixSnapshot:
    """The offering's snapshot for the key the database holds now (built when there is none).

    ``stale_of(offering, rows)``: the stale-certificate findings (``operations.stale_certificates``,
    passed in so this module does not import the operations layer)."""
    db.session.flush()
    apply_pending(db.session)  # this transaction's own writes, if any, first
    key = current_key(offering.id)
    if key is None:
        raise LookupError(f"no offering {offering.id}")
    now = utcnow()
    cache: dict[int, MatrixSnapshot] = current_app.extensions.setdefault(_CACHE_KEY, {})
    cached = cache.get(offering.id)
    if cached is not None and cached.usable(key, now):
        return cached
    matrix = load_matrix(offering, now=now)
    snapshot = MatrixSnapshot(key, matrix, now, stale_of(offering, matrix.rows))
    if current_key(offering.id) == key:  # nothing committed while it was read
        with _lock:
            if len(cache) >= _OFFERINGS and offering.id not in cache:
                cache.pop(next(iter(cache)))
            cache[offering.id] = snapshot
    return snapshot


def forget_matrix_snapshots() -> None:
    """Drop this app's cached matrices (tests; never needed for correctness)."""
    current_app.extensions.pop(_CACHE_KEY, None)
