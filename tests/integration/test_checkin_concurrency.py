"""Exactly-once attendance under racing requests (SQLite here; PostgreSQL with IMH_TEST_DATABASE_URL)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from imh_course.database import begin_write
from imh_course.extensions import db
from imh_course.models import (
    AttendanceEvidence,
    AttendanceRecord,
    AuditEvent,
    CourseSession,
    EvidenceKind,
    Meeting,
)
from imh_course.models.audit_chain import Actor, verify_chain
from imh_course.models.types import utcnow
from imh_course.operations.accounts import find_user
from imh_course.operations.attendance import MarkChange, mark
from imh_course.operations.checkin import (
    CheckInOutcome,
    checkin_window,
    current_code,
    open_checkin,
    self_check_in,
)
from imh_course.rules.credit import AttendanceStatus
from tests.conftest import TEST_PASSWORD

THREADS = 20


@pytest.fixture
def live(demo) -> Meeting:
    """Session 6 happening now, with check-in open."""
    meeting = db.session.scalar(
        select(Meeting)
        .join(CourseSession, Meeting.session_id == CourseSession.id)
        .where(Meeting.offering_id == demo.offering_id, CourseSession.number == 6)
    )
    start = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=5)
    meeting.start_dt, meeting.end_dt = start, start + timedelta(minutes=90)
    db.session.commit()
    open_checkin(Actor(user=find_user("instructor@example.org"), role="instructor"), meeting)
    db.session.commit()
    return meeting


def _run(worker, n: int = THREADS) -> list:
    barrier = threading.Barrier(n)
    results: list = []
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            barrier.wait()
            results.append(worker(i))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(results) == n
    return results


def _counts(meeting_id: int) -> tuple[int, int, int]:
    db.session.expire_all()
    records = db.session.scalar(
        select(func.count()).select_from(AttendanceRecord).where(AttendanceRecord.meeting_id == meeting_id)
    )
    sign_ins = db.session.scalar(
        select(func.count())
        .select_from(AttendanceEvidence)
        .where(AttendanceEvidence.kind == EvidenceKind.SIGN_IN)
    )
    audited = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "attendance.sign_in")
    )
    return records, sign_ins, audited


def test_twenty_concurrent_check_in_requests_make_one_sign_in(app, demo, live):
    """20 simultaneous code entries by one learner (tabs, double taps, workers) record one sign-in."""
    code = current_code(checkin_window(live), utcnow())
    url = f"/learn/offerings/{demo.offering_id}/check-in"
    meeting_id = live.id  # each sign-in below commits in this session, expiring `live`
    clients = []
    for _ in range(THREADS):
        c = app.test_client()
        assert (
            c.post("/login", data={"email": "lcsw@example.org", "password": TEST_PASSWORD}).status_code == 302
        )
        clients.append(c)
    db.session.remove()

    def enter(i: int) -> str:
        response = clients[i].post(url, data={"code": code, "step": "in"}, follow_redirects=True)
        page = response.get_data(as_text=True)
        if "You are signed in to Session 6" in page:
            return "signed in"
        if "You are already signed in to Session 6" in page:
            return "already"
        return f"{response.status_code}: {page[:200]}"

    outcomes = Counter(_run(enter))
    assert outcomes == {"signed in": 1, "already": THREADS - 1}
    assert _counts(meeting_id) == (1, 1, 1)
    assert verify_chain()[1] is None


def test_twenty_concurrent_operation_calls_make_one_record(app, demo, live):
    """The operation itself is exactly-once: 20 threads with their own sessions, one record."""
    meeting_id, learner_id = live.id, demo.lcsw_id
    now = utcnow()
    code = current_code(checkin_window(live), now)
    db.session.remove()

    def call(_i: int) -> CheckInOutcome:
        with app.app_context():
            begin_write()
            meeting = db.session.get(Meeting, meeting_id)
            learner = find_user("lcsw@example.org")
            outcome = self_check_in(Actor(user=learner, role="learner"), meeting, code, "10.1.1.1", now)
            db.session.commit()
            db.session.remove()
            return outcome

    outcomes = Counter(_run(call))
    assert outcomes == {CheckInOutcome.SIGNED_IN: 1, CheckInOutcome.ALREADY_SIGNED_IN: THREADS - 1}
    assert _counts(meeting_id) == (1, 1, 1)
    record = db.session.scalar(select(AttendanceRecord).where(AttendanceRecord.user_id == learner_id))
    assert record.arrived_dt == now.replace(microsecond=0)


def test_twenty_concurrent_marks_of_one_learner_make_one_record(app, demo, live):
    """Instructor double-saves of the same mark race to one record and one audited mark."""
    meeting_id = live.id
    db.session.remove()

    def call(_i: int) -> MarkChange:
        with app.app_context():
            begin_write()
            meeting = db.session.get(Meeting, meeting_id)
            staff = Actor(user=find_user("instructor@example.org"), role="instructor")
            result = mark(staff, meeting, find_user("lmhc@example.org"), AttendanceStatus.PRESENT, None, None)
            db.session.commit()
            db.session.remove()
            return result.change

    outcomes = Counter(_run(call))
    assert outcomes == {MarkChange.CREATED: 1, MarkChange.UNCHANGED: THREADS - 1}
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AttendanceRecord)) == 1
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "attendance.mark")
        )
        == 1
    )
    assert db.session.scalar(select(func.count()).select_from(AttendanceEvidence)) == 1
