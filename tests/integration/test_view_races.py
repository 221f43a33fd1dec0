"""Races through the real views: separate requests, separate sessions, real CSRF tokens (issue 14, 1–2).

Each thread has its own test client (its own signed-in session) against the one app, as a learner with
two tabs or two instructors at once would. On PostgreSQL these failed while a locked re-read returned
the identity-map copy the view had already loaded (``database.locked`` now refreshes it).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import select

from imh_course.extensions import db
from imh_course.models import (
    AttendanceEvidence,
    AuditEvent,
    EvidenceKind,
    ExerciseResponse,
    ExerciseResponseRevision,
)
from tests.conftest import TEST_PASSWORD
from tests.integration.learner_helpers import exercise_for
from tests.integration.test_attendance import mark_data, mark_url, meeting_for, roster_url

THREADS = 20
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def app_config() -> dict[str, object]:
    """CSRF on: every racing request carries the token its own session was given."""
    return {"WTF_CSRF_ENABLED": True}


def _fresh(response):  # noqa: ANN001, ANN202
    """The main thread shares the fixture's app context: let each request make its own token."""
    g.pop("csrf_token", None)
    return response


def _signed_in(app: Flask, email: str) -> FlaskClient:
    """A new client (its own cookie jar, so its own session) signed in with a real CSRF token."""
    c = app.test_client()
    token = TOKEN.search(_fresh(c.get("/login")).get_data(as_text=True)).group(1)
    form = {"email": email, "password": TEST_PASSWORD, "csrf_token": token}
    assert _fresh(c.post("/login", data=form)).status_code == 302
    return c


def _race(posts: list[Callable[[], object]]) -> list:
    """Run every post at once behind a barrier; any exception in a thread fails the test."""
    barrier = threading.Barrier(len(posts))
    results: list = [None] * len(posts)
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            barrier.wait()
            results[i] = posts[i]()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(len(posts))]
    db.session.remove()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    db.session.expire_all()
    return results


def test_concurrent_saves_of_one_exercise_keep_every_revision(app, demo):
    """Twenty tabs save one response at once: no 500, no lost text, revisions 1..n each once."""
    exercise = exercise_for(2)
    url = f"/learn/offerings/{demo.offering_id}/exercises/{exercise.key}"
    clients = [_signed_in(app, "lcsw@example.org") for _ in range(THREADS)]
    tokens = [TOKEN.search(_fresh(c.get(url)).get_data(as_text=True)).group(1) for c in clients]
    # The response exists before the race, so every view loads it before the locked re-read.
    first = {"body": "First draft", "save_draft": "Save draft", "csrf_token": tokens[0]}
    assert _fresh(clients[0].post(url, data=first)).status_code == 302
    bodies = [f"Tab {i}: what the baby's cues told me" for i in range(THREADS)]

    def save(i: int) -> Callable[[], int]:
        data = {"body": bodies[i], "save_draft": "Save draft", "csrf_token": tokens[i]}
        return lambda: clients[i].post(url, data=data).status_code

    statuses = _race([save(i) for i in range(THREADS)])
    assert statuses == [302] * THREADS
    response = db.session.scalar(select(ExerciseResponse))
    assert response.revision == 1 + THREADS
    revisions = db.session.scalars(
        select(ExerciseResponseRevision.revision).where(ExerciseResponseRevision.response_id == response.id)
    ).all()
    assert sorted(revisions) == list(range(1, THREADS + 2))
    saved = db.session.scalars(
        select(ExerciseResponseRevision.body).where(ExerciseResponseRevision.revision > 1)
    ).all()
    assert sorted(saved) == sorted(bodies)  # every tab's text is kept, none twice
    assert response.body in bodies


def _staff_posts(app: Flask, demo, email: str, n: int) -> tuple[str, list[FlaskClient], list[str]]:
    """n instructor sessions, each with the row token from its own roster page."""
    meeting = meeting_for(demo.offering_id, 1)  # five weeks ago
    url = mark_url(demo.offering_id, meeting.id, demo.lcsw_id)
    field = re.compile(rf'name="l{demo.lcsw_id}-csrf_token" type="hidden" value="([^"]+)"')
    clients = [_signed_in(app, email) for _ in range(n)]
    page = roster_url(demo.offering_id, meeting.id)
    tokens = [field.search(_fresh(c.get(page)).get_data(as_text=True)).group(1) for c in clients]
    return url, clients, tokens


def _corrections() -> list[AuditEvent]:
    db.session.expire_all()
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "attendance.correct").order_by(AuditEvent.id)
    ).all()


def _correction_evidence() -> int:
    return len(
        db.session.scalars(
            select(AttendanceEvidence.id).where(AttendanceEvidence.kind == EvidenceKind.CORRECTION)
        ).all()
    )


def test_twenty_identical_corrections_are_recorded_once(app, demo):
    """The same correction posted twenty times at once: one audited change, one evidence row."""
    url, clients, tokens = _staff_posts(app, demo, "instructor@example.org", THREADS)
    p = f"l{demo.lcsw_id}-csrf_token"
    assert (
        _fresh(clients[0].post(url, data=mark_data(demo.lcsw_id, "present") | {p: tokens[0]})).status_code
        == 302
    )
    data = mark_data(demo.lcsw_id, "late", arrived="12:30", reason="Sign-in sheet says 12:30")

    def post(i: int) -> Callable[[], int]:
        return lambda: clients[i].post(url, data=data | {p: tokens[i]}).status_code

    assert _race([post(i) for i in range(THREADS)]) == [302] * THREADS
    (event,) = _corrections()
    assert event.before["status"] == "present" and event.after["status"] == "late"
    assert _correction_evidence() == 1


def test_different_corrections_at_once_make_a_true_history_chain(app, demo):
    """Six different corrections at once: each event's "before" is the previous event's "after"."""
    url, clients, tokens = _staff_posts(app, demo, "coordinator@example.org", 6)
    p = f"l{demo.lcsw_id}-csrf_token"
    assert (
        _fresh(clients[0].post(url, data=mark_data(demo.lcsw_id, "present") | {p: tokens[0]})).status_code
        == 302
    )
    arrivals = ["12:05", "12:10", "12:15", "12:20", "12:25", "12:30"]

    def post(i: int) -> Callable[[], int]:
        data = mark_data(demo.lcsw_id, "late", arrived=arrivals[i], reason=f"Correction {i}")
        return lambda: clients[i].post(url, data=data | {p: tokens[i]}).status_code

    assert _race([post(i) for i in range(6)]) == [302] * 6
    events = _corrections()
    assert len(events) == 6 and _correction_evidence() == 6
    assert events[0].before["status"] == "present"
    for earlier, later in zip(events, events[1:], strict=False):
        # "after" also names the method; the mark itself is status and times.
        assert later.before == {k: earlier.after[k] for k in ("status", "arrived", "departed")}
    assert len({e.after["arrived"] for e in events}) == 6
