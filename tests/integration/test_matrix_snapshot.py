"""The completion matrix page's per-process snapshot is never stale.

Each kind of write the matrix shows (attendance, reading completion, enrolment, withdrawal, profile,
certificate, evaluation, meeting time, published content) is made through one app and must show
on the very next matrix request of another app on the same database (two apps here, like two
gunicorn workers, each with its own cache), and of the app that wrote. A sign-in, which writes too,
keeps the snapshot: it changes nothing the matrix shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import create_app
from imh_course.extensions import db
from imh_course.models import (
    AttendanceRecord,
    Certificate,
    CertificateStatus,
    Enrolment,
    Meeting,
    Offering,
    User,
)
from imh_course.models.audit_chain import Actor
from imh_course.models.certificates import EvaluationReceipt
from imh_course.models.curriculum import Reading
from imh_course.models.types import utcnow
from imh_course.operations.accounts import ProfileData
from imh_course.operations.attendance import mark
from imh_course.operations.enrolment import withdraw
from imh_course.operations.profile import update_profile
from imh_course.reports import matrix_snapshot
from imh_course.rules.completion import CertificateKind
from imh_course.rules.credit import AttendanceStatus
from tests.conftest import TEST_PASSWORD, _base_config
from tests.integration.coordinator_helpers import enrol_many, give_records, meetings_of

COORDINATOR = "coordinator@example.org"


@pytest.fixture
def other_app(app: Flask, database_url: str) -> Iterator[Flask]:  # noqa: ARG001
    """A second app on the same database: another worker process, with its own matrix cache."""
    other = create_app(_base_config(database_url))
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def _signed_in(app: Flask, email: str) -> FlaskClient:
    db.session.rollback()  # the sign-in writes: start from a fresh read snapshot, as a request does
    client = app.test_client()
    assert client.post("/login", data={"email": email, "password": TEST_PASSWORD}).status_code == 302
    return client


@pytest.fixture
def coordinators(app: Flask, other_app: Flask, demo) -> list[FlaskClient]:  # noqa: ARG001
    """The coordinator signed in on both workers; both have built the matrix once (warm caches)."""
    clients = [_signed_in(app, COORDINATOR), _signed_in(other_app, COORDINATOR)]
    for client in clients:
        _page(client, demo)
    return clients


def _page(client: FlaskClient, demo, query: str = "") -> str:  # noqa: ANN001
    db.session.remove()  # requests to ``app`` share the test's context: start each afresh
    response = client.get(f"/staff/offerings/{demo.offering_id}/matrix{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _row(html: str, name: str) -> str:
    """The learner's ``<tr>`` in the matrix table ('' when not shown)."""
    table = html[html.index('class="matrix"') :]
    found = re.search(
        r"<tr[^>]*>\s*<th scope=\"row\"><a [^>]*>" + re.escape(name) + r"</a>.*?</tr>", table, re.S
    )
    return found.group(0) if found else ""


def _on_both(coordinators: list[FlaskClient], demo, query: str = "") -> list[str]:  # noqa: ANN001
    return [_page(client, demo, query) for client in coordinators]


def _actor(email: str, role: str) -> Actor:
    from imh_course.operations.accounts import find_user

    return Actor(user=find_user(email), role=role, ip_address="127.0.0.1")


def _write(change: Callable[[], None]) -> None:
    """One write, committed, made in the test's app (the first worker)."""
    db.session.rollback()
    change()
    db.session.commit()


def test_attendance_marked_on_one_worker_shows_on_both(coordinators, demo):
    name = "Marco A. Counselor"
    before = _on_both(coordinators, demo)
    assert all("P 90" not in _row(html, name) for html in before)
    meeting = meetings_of(demo.offering_id)[0]

    def record() -> None:
        mark(
            _actor("instructor@example.org", "instructor"),
            db.session.get(Meeting, meeting.id),
            db.session.get(User, demo.lmhc_id),
            AttendanceStatus.PRESENT,
            None,
            None,
        )

    _write(record)
    for html in _on_both(coordinators, demo):
        assert "P 90" in _row(html, name)
    for html in _on_both(coordinators, demo, "?sort=ce&dir=desc"):  # the sorted order too
        table = html[html.index('class="matrix"') :]
        assert table.index(name) < table.index("Lena M. Social-Worker")


def test_reading_completed_by_the_learner_shows_on_both(app, coordinators, demo):
    name = "Lena M. Social-Worker"
    assert all("R 0/" in _row(html, name) for html in _on_both(coordinators, demo))
    learner = _signed_in(app, "lcsw@example.org")
    reading = db.session.scalar(
        select(Reading).where(Reading.is_current.is_(True)).order_by(Reading.session_id, Reading.position)
    )
    db.session.remove()
    response = learner.post(f"/learn/offerings/{demo.offering_id}/readings/{reading.key}/complete")
    assert response.status_code in (200, 302)
    for html in _on_both(coordinators, demo):
        assert "R 1/" in _row(html, name)


def test_enrolment_and_withdrawal_show_on_both(coordinators, demo):
    before = _on_both(coordinators, demo)
    assert all("(3 enrolled)" in html for html in before)
    ids = enrol_many(demo.offering_id, 2, prefix="snapshot")
    for html in _on_both(coordinators, demo):
        assert "(5 enrolled)" in html
    enrolment = db.session.scalar(
        select(Enrolment).where(Enrolment.offering_id == demo.offering_id, Enrolment.user_id == ids[0])
    )
    _write(lambda: withdraw(_actor(COORDINATOR, "coordinator"), enrolment, "moved away"))
    for html in _on_both(coordinators, demo):
        assert html.count('<tr class="withdrawn">') == 1
        assert "Active learners only (4)" in html


def test_profile_change_shows_on_both(coordinators, demo):
    def change() -> None:
        user = db.session.get(User, demo.nurse_id)
        data = ProfileData(certificate_name="Nia Renamed", license_type="LMHC", license_number="123456")
        update_profile(_actor(COORDINATOR, "coordinator"), user, data)

    _write(change)
    for html in _on_both(coordinators, demo):
        row = _row(html, "Nia Renamed")
        assert row and "<td>LMHC</td>" in row


def test_certificate_and_evaluation_show_on_both(coordinators, demo):
    name = "Lena M. Social-Worker"

    def issue() -> None:  # through the ORM only: the flush hook is the safety net
        db.session.add(EvaluationReceipt(offering_id=demo.offering_id, user_id=demo.lcsw_id))
        db.session.add(
            Certificate(
                public_id="a" * 32,
                offering_id=demo.offering_id,
                user_id=demo.lcsw_id,
                version=1,
                kind=CertificateKind.CE,
                facts={},
                facts_hash="0" * 64,
                pdf=b"%PDF",
                status=CertificateStatus.VALID,
                issued_dt=utcnow(),
            )
        )

    _write(issue)
    for html in _on_both(coordinators, demo):
        row = _row(html, name)
        assert "<td>submitted</td>" in row and "valid <a" in row
    for html in _on_both(coordinators, demo, "?not_issued=y"):
        assert _row(html, name) == ""


def test_meeting_shortened_and_content_unpublished_show_on_both(coordinators, demo):
    name = "Lena M. Social-Worker"
    first_id = meetings_of(demo.offering_id)[0].id

    give_records(demo.offering_id, demo.lcsw_id, attended=1)
    assert all("P 90" in _row(html, name) for html in _on_both(coordinators, demo))

    def shorten() -> None:  # the first meeting ends half an hour earlier: 60 minutes to credit
        db.session.get(Meeting, first_id).end_dt -= timedelta(minutes=30)

    _write(shorten)
    for html in _on_both(coordinators, demo):
        assert "P 60" in _row(html, name) and "P 90" not in _row(html, name)

    def unpublish() -> None:
        reading = db.session.scalar(
            select(Reading).where(Reading.is_current.is_(True)).order_by(Reading.session_id, Reading.position)
        )
        reading.is_published = False

    totals = [re.search(r"R \d+/(\d+)", _row(html, name)).group(1) for html in _on_both(coordinators, demo)]
    _write(unpublish)
    for html, total in zip(_on_both(coordinators, demo), totals, strict=True):
        assert re.search(r"R \d+/(\d+)", _row(html, name)).group(1) == str(int(total) - 1)  # session 1


def test_a_raw_attendance_row_through_the_orm_shows_on_both(coordinators, demo):
    """No operation, no audit event: the flush hook alone bumps the revision."""
    meeting = meetings_of(demo.offering_id)[1]

    def add() -> None:
        db.session.add(
            AttendanceRecord(
                meeting_id=meeting.id,
                user_id=demo.nurse_id,
                status=AttendanceStatus.EXCUSED,
                method="instructor",
            )
        )

    _write(add)
    for html in _on_both(coordinators, demo):
        assert "E 0" in _row(html, "Nia Nurse")


def _revision(offering_id: int) -> str:
    db.session.rollback()
    return db.session.scalar(select(Offering.matrix_revision).where(Offering.id == offering_id))


def test_a_sign_in_keeps_the_snapshot(app, demo):
    """Signing in writes (the last sign-in time) but nothing the matrix shows: no new revision."""
    before = _revision(demo.offering_id)
    _signed_in(app, "lcsw@example.org")
    assert _revision(demo.offering_id) == before


def test_the_snapshot_is_rebuilt_once_the_next_meeting_is_over(app, demo, monkeypatch):
    """Which meetings are over decides 'at risk' and what can still be completed: a snapshot is not
    used past the end of the next meeting."""
    client = _signed_in(app, COORDINATOR)
    _page(client, demo)
    cached = app.extensions["imh_course.matrix_snapshots"][demo.offering_id]
    upcoming = min(m.end_dt for m in meetings_of(demo.offering_id) if m.end_dt > utcnow())
    assert cached.valid_until == upcoming
    later = upcoming + timedelta(minutes=1)
    monkeypatch.setattr(matrix_snapshot, "utcnow", lambda: later)
    _page(client, demo)
    rebuilt = app.extensions["imh_course.matrix_snapshots"][demo.offering_id]
    assert rebuilt is not cached and rebuilt.valid_until > later


def test_a_snapshot_built_inside_a_rolled_back_write_is_never_served(app, demo):
    """Built from uncommitted rows, a snapshot is keyed by a revision no committed row will hold."""
    from imh_course.operations.stale_certificates import stale_certificates

    client = _signed_in(app, COORDINATOR)
    assert "E 0" not in _row(_page(client, demo), "Nia Nurse")
    db.session.rollback()
    meeting = meetings_of(demo.offering_id)[2]
    db.session.add(
        AttendanceRecord(
            meeting_id=meeting.id, user_id=demo.nurse_id, status=AttendanceStatus.EXCUSED, method="instructor"
        )
    )
    db.session.flush()
    offering = db.session.get(Offering, demo.offering_id)
    inside = matrix_snapshot.matrix_snapshot(offering, stale_certificates)
    assert any(c.status is AttendanceStatus.EXCUSED for r in inside.matrix.rows for c in r.cells)
    db.session.rollback()
    assert "E 0" not in _row(_page(client, demo), "Nia Nurse")


def test_the_revision_is_bumped_at_commit_not_at_each_flush(app, demo):
    """The offering's row is written (and, on PostgreSQL, locked) only as the transaction commits,
    so concurrent writes to one offering do not wait on each other for their whole transaction."""
    before = _revision(demo.offering_id)
    meeting = meetings_of(demo.offering_id)[3]
    db.session.add(
        AttendanceRecord(
            meeting_id=meeting.id, user_id=demo.nurse_id, status=AttendanceStatus.EXCUSED, method="instructor"
        )
    )
    db.session.flush()
    inside = db.session.scalar(select(Offering.matrix_revision).where(Offering.id == demo.offering_id))
    assert inside == before
    db.session.commit()
    assert _revision(demo.offering_id) != before
