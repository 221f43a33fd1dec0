"""Exactly-once roster import: 20 coordinators' requests racing with the same file."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from imh_course.extensions import db
from imh_course.models import Enrolment, User
from tests.conftest import TEST_PASSWORD
from tests.integration.test_roster_import import GOOD_LINES, HEADER, csv_bytes, upload

THREADS = 20


def test_twenty_concurrent_imports_enrol_each_learner_once(app, demo):
    """Twenty simultaneous imports of one roster leave one account and one enrolment per learner."""
    raw = csv_bytes(HEADER, *GOOD_LINES)
    users_before = db.session.scalar(select(func.count()).select_from(User))
    clients = []
    for _ in range(THREADS):
        c = app.test_client()
        response = c.post("/login", data={"email": "coordinator@example.org", "password": TEST_PASSWORD})
        assert response.status_code == 302
        clients.append(c)
    db.session.remove()
    barrier = threading.Barrier(THREADS)
    statuses: list[int] = []

    def run(c) -> None:  # noqa: ANN001
        barrier.wait()
        statuses.append(upload(c, demo.offering_id, raw).status_code)

    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(statuses) == THREADS and all(s < 500 for s in statuses), statuses
    emails = ["zoe@example.org", "sam@example.org", "ana@example.org"]
    assert db.session.scalar(select(func.count()).select_from(User)) == users_before + 3
    for email in emails:
        enrolments = db.session.scalar(
            select(func.count())
            .select_from(Enrolment)
            .join(User, User.id == Enrolment.user_id)
            .where(User.email == email, Enrolment.offering_id == demo.offering_id)
        )
        assert enrolments == 1, email
