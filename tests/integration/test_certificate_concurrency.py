"""Exactly one valid certificate when coordinators (or workers) issue and reissue at the same time."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from imh_course.extensions import db
from imh_course.models import AuditEvent, Certificate, CertificateStatus
from tests.conftest import TEST_PASSWORD
from tests.integration.certificate_helpers import attend, attest, evaluate

THREADS = 20


def coordinator_clients(app, n: int) -> list:  # noqa: ANN001
    clients = []
    for _ in range(n):
        c = app.test_client()
        response = c.post("/login", data={"email": "coordinator@example.org", "password": TEST_PASSWORD})
        assert response.status_code == 302
        clients.append(c)
    return clients


def race(clients: list, url: str, data: dict | None = None) -> list[int]:
    """POST ``url`` from every client at once; returns the status codes."""
    db.session.remove()
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def post(c) -> None:  # noqa: ANN001
        barrier.wait()
        statuses.append(c.post(url, data=data or {}).status_code)

    threads = [threading.Thread(target=post, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return statuses


def count_events(action: str) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def ready_lcsw(app, client, login, demo) -> None:  # noqa: ANN001
    attend(demo.offering_id, demo.lcsw_id, 10)
    login("lcsw@example.org")
    assert evaluate(client, demo.offering_id).status_code == 302
    assert attest(client, app, demo.offering_id, demo.lcsw_id).status_code == 302


def test_twenty_coordinators_issuing_at_once_make_one_certificate(app, client, login, demo):
    """20 simultaneous issue requests for one learner leave exactly one valid certificate and one event."""
    ready_lcsw(app, client, login, demo)
    clients = coordinator_clients(app, THREADS)
    statuses = race(clients, f"/staff/offerings/{demo.offering_id}/certificates/{demo.lcsw_id}/issue")
    assert statuses == [302] * THREADS
    rows = db.session.scalars(select(Certificate)).all()
    assert [(c.version, c.status) for c in rows] == [(1, CertificateStatus.VALID)]
    assert count_events("certificate.issue") == 1


def test_concurrent_reissues_make_exactly_one_new_version(app, client, login, demo):
    """Ten simultaneous reissues of one certificate: one wins, the rest are refused; one stays valid."""
    ready_lcsw(app, client, login, demo)
    login("coordinator@example.org")
    client.post(f"/staff/offerings/{demo.offering_id}/certificates/{demo.lcsw_id}/issue")
    public_id = db.session.scalar(select(Certificate.public_id))
    clients = coordinator_clients(app, 10)
    url = f"/staff/offerings/{demo.offering_id}/certificates/{public_id}/reissue"
    assert race(clients, url, {"reason": "Corrected name"}) == [302] * 10
    rows = db.session.scalars(select(Certificate).order_by(Certificate.version)).all()
    assert [(c.version, c.status) for c in rows] == [
        (1, CertificateStatus.SUPERSEDED),
        (2, CertificateStatus.VALID),
    ]
    assert rows[0].superseded_by_id == rows[1].id
    assert count_events("certificate.reissue") == 1
