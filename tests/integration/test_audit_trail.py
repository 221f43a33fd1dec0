"""The audit trail: append-only in the database, verifiable hash chain, and a filtered viewer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from imh_course.extensions import db
from imh_course.models import AuditEvent
from imh_course.security.roles import Role


def _is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


@pytest.fixture
def unprotected_audit_table(app) -> Iterator[None]:  # noqa: ARG001
    """Switch off the append-only triggers, as an attacker with database access could."""
    if _is_postgres():
        db.session.execute(text("ALTER TABLE imh_audit_event DISABLE TRIGGER imh_audit_event_no_change"))
    else:
        db.session.execute(text("DROP TRIGGER imh_audit_event_no_update"))
        db.session.execute(text("DROP TRIGGER imh_audit_event_no_delete"))
    db.session.commit()
    yield
    db.session.rollback()
    if _is_postgres():  # the PostgreSQL test database is reused: put the protection back
        db.session.execute(text("ALTER TABLE imh_audit_event ENABLE TRIGGER imh_audit_event_no_change"))
        db.session.commit()


def table_of(html: str) -> str:
    return html[html.index("<table") :] if "<table" in html else ""


def middle_event_id() -> int:
    ids = db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()
    assert len(ids) > 10
    return ids[len(ids) // 2]


def test_verify_passes_on_an_untouched_trail(runner, demo):
    """`flask imh audit verify` recomputes the chain and reports it intact (exit code 0)."""
    result = runner.invoke(args=["imh", "audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "Audit trail intact" in result.output
    total = db.session.scalar(select(func.count()).select_from(AuditEvent))
    assert f"{total} events verified" in result.output


def test_the_database_rejects_update_and_delete(app, demo):
    """Without tampering with the triggers, UPDATE and DELETE on audit events fail in the database."""
    event_id = middle_event_id()
    for statement in (
        "UPDATE imh_audit_event SET reason = 'forged' WHERE id = :id",
        "DELETE FROM imh_audit_event WHERE id = :id",
    ):
        with pytest.raises(DBAPIError):
            db.session.execute(text(statement), {"id": event_id})
            db.session.flush()
        db.session.rollback()
    assert db.session.get(AuditEvent, event_id).reason is None


def test_verify_fails_on_an_edited_event(runner, demo, unprotected_audit_table):
    """An event edited directly in the database breaks the chain: verify names it and exits 1."""
    event_id = middle_event_id()
    db.session.execute(text("UPDATE imh_audit_event SET reason = 'forged' WHERE id = :id"), {"id": event_id})
    db.session.commit()
    result = runner.invoke(args=["imh", "audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN at event {event_id}: contents do not match the stored hash" in result.output


def test_verify_fails_on_a_deleted_event(runner, demo, unprotected_audit_table):
    """Removing an event breaks the link of the next one."""
    event_id = middle_event_id()
    following = db.session.scalar(
        select(AuditEvent.id).where(AuditEvent.id > event_id).order_by(AuditEvent.id)
    )
    db.session.execute(text("DELETE FROM imh_audit_event WHERE id = :id"), {"id": event_id})
    db.session.commit()
    result = runner.invoke(args=["imh", "audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN at event {following}: prev_hash does not match" in result.output


def test_viewer_filters_by_offering_learner_actor_and_action(client, demo, login):
    """Filters narrow the trail to one offering, learner, actor, action or date range."""
    login("coordinator@example.org")
    client.post(
        f"/staff/offerings/{demo.offering_id}/enrolments/{demo.lcsw_id}/funding", data={"funding": "waived"}
    )
    html = client.get(
        f"/staff/audit?offering={demo.offering_id}&learner=lcsw@example.org&action=enrolment.funding"
    ).get_data(as_text=True)
    assert html.count("<tr>") == 2  # header + the one event
    assert "enrolment.funding" in html and "Casey Coordinator" in html and "waived" in html
    by_actor = table_of(client.get("/staff/audit?actor=coordinator@example.org").get_data(as_text=True))
    assert "enrolment.funding" in by_actor and "content.create" not in by_actor
    system = table_of(client.get("/staff/audit?actor=system&action=content.create").get_data(as_text=True))
    assert "content.create" in system and "enrolment.funding" not in system
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    empty = client.get(f"/staff/audit?date_from={tomorrow}").get_data(as_text=True)
    assert "No events match these filters." in empty
    nobody = client.get("/staff/audit?learner=ghost@example.org").get_data(as_text=True)
    assert "No events match these filters." in nobody


def test_viewer_is_paginated_newest_first(client, demo, login):
    """50 events per page, newest first, with links to older and newer pages."""
    login("coordinator@example.org")
    total = db.session.scalar(select(func.count()).select_from(AuditEvent))
    assert total > 50
    first = client.get("/staff/audit").get_data(as_text=True)
    assert first.count("<tr>") == 51 and "page=2" in first and "← Newer" not in first
    newest = db.session.scalar(select(func.max(AuditEvent.id)))
    assert f"<td>{newest}</td>" in first
    last_page = (total - 1) // 50 + 1
    last = client.get(f"/staff/audit?page={last_page}").get_data(as_text=True)
    assert "← Newer" in last and "Older →" not in last


def test_bad_filter_input_is_400_not_500(client, demo, login):
    """A malformed date re-renders the filters with the error."""
    login("coordinator@example.org")
    response = client.get("/staff/audit?date_from=yesterday&page=x")
    assert response.status_code == 400
    assert "Enter the date as year-month-day, e.g. 2027-01-12." in response.get_data(as_text=True)


def test_viewer_access(client, demo, login, make_user):
    """Coordinators and admins read the trail; instructors and learners cannot."""
    make_user(Role.ADMIN, email="admin@example.org")
    login("admin@example.org")
    assert client.get("/staff/audit").status_code == 200
    client.post("/logout")
    for email in ("instructor@example.org", "lcsw@example.org"):
        login(email)
        assert client.get("/staff/audit").status_code == 403
        client.post("/logout")


def test_a_page_number_past_any_page_is_a_400_not_a_500(client, make_user, login):
    """A huge ``page`` overflowed the OFFSET (500 on SQLite); now it answers 400 with the first page."""
    make_user(Role.COORDINATOR, email="pager@example.org")
    login("pager@example.org")
    for bad in ("99999999999999999999", "abc", "0"):
        response = client.get(f"/staff/audit?page={bad}")
        assert response.status_code == 400, bad
        assert "Page 1" in response.get_data(as_text=True)
    assert client.get("/staff/audit?page=2").status_code == 200
