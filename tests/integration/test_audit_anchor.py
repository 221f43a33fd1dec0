"""Removing the newest audit events is refused, and detected against an anchor kept elsewhere.

The hash chain alone shows a change or removal *before* the newest event; a trail cut short (or
emptied) is still an intact chain. These tests tamper as a database superuser could (triggers
off for one transaction) and check that ``flask imh audit verify --anchor SEQ:HASH`` notices.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from imh_course.extensions import db
from imh_course.models import AuditEvent
from imh_course.models.audit_chain import Actor, record_event

EVERY = 5


@pytest.fixture
def app_config() -> dict[str, object]:
    return {"IMH_AUDIT_ANCHOR_EVERY": EVERY}


def _is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def _record(count: int) -> None:
    for n in range(count):
        record_event(Actor.system(), "test.event", "test", n)
    db.session.commit()


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def _head() -> tuple[int, str]:
    row = db.session.execute(select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc())).first()
    return row.id, row.hash


def _as_superuser(statement: str, **params: object) -> None:
    """Run a statement with the append-only triggers bypassed, as a database superuser could."""
    if _is_postgres():
        db.session.execute(text("SET LOCAL session_replication_role = replica"))  # this transaction only
    else:
        for trigger in ("imh_audit_event_no_update", "imh_audit_event_no_delete"):
            db.session.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
    db.session.execute(text(statement), params)
    db.session.commit()


def _verify(runner, *anchors: str):  # noqa: ANN001, ANN202
    args = ["imh", "audit", "verify"]
    for anchor in anchors:
        args += ["--anchor", anchor]
    return runner.invoke(args=args)


def test_truncate_is_refused_on_postgresql(app):
    """TRUNCATE fires no row triggers; the BEFORE TRUNCATE trigger refuses it (also via CASCADE)."""
    if not _is_postgres():
        pytest.skip("SQLite has no TRUNCATE; its DELETE without WHERE is covered below")
    _record(3)
    for statement in ("TRUNCATE imh_audit_event", "TRUNCATE imh_user CASCADE"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert _count() == 3


def test_delete_without_where_is_refused(app):
    """Emptying the table with DELETE is refused on both databases (on SQLite: no truncate shortcut)."""
    _record(3)
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("DELETE FROM imh_audit_event"))
    db.session.rollback()
    assert _count() == 3


def test_anchor_prints_the_head_to_keep(runner, app):
    """`flask imh audit anchor` prints SEQ:HASH of the newest event, and how to keep it."""
    _record(3)
    result = runner.invoke(args=["imh", "audit", "anchor"])
    assert result.exit_code == 0, result.output
    seq, digest = _head()
    assert result.stdout.strip() == f"{seq}:{digest}"
    assert "Keep this anchor off the server" in result.output


def test_anchor_of_an_empty_trail_is_refused(runner, app):
    result = runner.invoke(args=["imh", "audit", "anchor"])
    assert result.exit_code == 1
    assert "empty: there is no event to anchor" in result.output


def test_a_broken_chain_is_not_anchored(runner, app):
    """An anchor of an edited chain would bless the forgery: the command refuses and names the event."""
    _record(3)
    seq, _digest = _head()
    _as_superuser("UPDATE imh_audit_event SET reason = 'forged' WHERE id = :id", id=seq - 1)
    result = runner.invoke(args=["imh", "audit", "anchor"])
    assert result.exit_code == 1
    assert f"broken at event {seq - 1}" in result.output and result.stdout == ""


def test_an_intact_chain_reaches_its_anchors(runner, app):
    """Anchors taken earlier and now are all reached: exit 0, naming them."""
    _record(3)
    early = "{}:{}".format(*_head())
    _record(4)
    seq, digest = _head()
    result = _verify(runner, f"{seq}:{digest}", early)
    assert result.exit_code == 0, result.output
    assert (
        f"Audit trail intact: 7 events verified, reaches anchor {early.split(':')[0]}, {seq}."
        in result.output
    )


def test_deleting_the_newest_events_is_detected_against_the_anchor(runner, app):
    """Without the anchor the shortened chain looks intact (with a hint); with it, verify fails."""
    _record(6)
    seq, digest = _head()
    _as_superuser("DELETE FROM imh_audit_event WHERE id > :keep", keep=seq - 3)
    plain = _verify(runner)
    assert plain.exit_code == 0
    assert "Audit trail intact: 3 events verified." in plain.output
    assert "shows only against an anchor" in plain.output
    anchored = _verify(runner, f"{seq}:{digest}")
    assert anchored.exit_code == 1
    assert f"does NOT reach anchor {seq}: event {seq} is missing (the chain ends at event {seq - 3})" in (
        anchored.output
    )


def test_emptying_the_trail_is_detected_against_the_anchor(runner, app):
    """A superuser's TRUNCATE (PostgreSQL) or DELETE (SQLite) leaves 0 events: the hint, then the anchor."""
    _record(4)
    seq, digest = _head()
    _as_superuser("TRUNCATE imh_audit_event" if _is_postgres() else "DELETE FROM imh_audit_event")
    assert _count() == 0
    plain = _verify(runner)
    assert plain.exit_code == 0 and "intact: 0 events" in plain.output
    assert "If events were ever recorded, it has been emptied" in plain.output
    anchored = _verify(runner, f"{seq}:{digest}")
    assert anchored.exit_code == 1
    assert f"event {seq} is missing (the trail is empty)" in anchored.output


def test_a_rewritten_tail_is_detected_against_the_anchor(runner, app):
    """Cut the tail and append new, correctly chained events: the anchored event is gone or differs."""
    _record(5)
    seq, digest = _head()
    _as_superuser("DELETE FROM imh_audit_event WHERE id > :keep", keep=seq - 2)
    if not _is_postgres():  # triggers back, so the forger appends through the application
        db.session.execute(
            text(
                "CREATE TRIGGER imh_audit_event_no_delete BEFORE DELETE ON imh_audit_event "
                "BEGIN SELECT RAISE(ABORT, 'imh_audit_event is append-only'); END"
            )
        )
        db.session.commit()
    _record(4)
    assert _verify(runner).exit_code == 0
    anchored = _verify(runner, f"{seq}:{digest}")
    assert anchored.exit_code == 1
    assert f"does NOT reach anchor {seq}" in anchored.output
    # SQLite reuses the freed ids (a different hash at SEQ); PostgreSQL's sequence moves on (SEQ missing)
    assert ("the chain was rewritten from there" in anchored.output) != _is_postgres()


@pytest.mark.parametrize(
    "anchor",
    ["", "abc", "12", "12:", ":" + "a" * 64, "12:xyz", "0:" + "a" * 64, "-1:" + "a" * 64, "5:" + "a" * 63],
)
def test_a_malformed_anchor_is_a_usage_error(runner, app, anchor):
    """Exit 2 with the expected form, never a traceback."""
    _record(1)
    result = _verify(runner, anchor)
    assert result.exit_code == 2, result.output
    assert "is not an anchor: expected SEQ:HASH" in result.output
    assert "Traceback" not in result.output


def _anchor_records(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.security_fields["anchor"]
        for r in caplog.records
        if getattr(r, "security_event", None) == "audit.anchor"
    ]


def test_the_security_log_records_the_head_every_n_events(runner, app, caplog):
    """Every IMH_AUDIT_ANCHOR_EVERY-th event is logged as an anchor once committed; each one verifies."""
    caplog.set_level(logging.INFO, logger="imh_course.security")
    _record(2 * EVERY + 2)
    ids = db.session.execute(select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id)).all()
    expected = [f"{row.id}:{row.hash}" for row in ids if row.id % EVERY == 0]
    assert len(expected) == 2
    assert _anchor_records(caplog) == expected
    record = next(r for r in caplog.records if getattr(r, "security_event", None) == "audit.anchor")
    assert f"security event=audit.anchor seq={EVERY} anchor={expected[0]}" in record.getMessage()
    result = _verify(runner, *expected)
    assert result.exit_code == 0 and "reaches anchor" in result.output


def test_anchors_of_rolled_back_events_are_never_logged(app, caplog):
    """A rolled-back transaction or savepoint leaves no anchor naming an event that does not exist."""
    caplog.set_level(logging.INFO, logger="imh_course.security")
    _record(EVERY - 1)
    record_event(Actor.system(), "test.event", "test", "rolled back")
    db.session.rollback()
    with db.session.begin_nested():
        pass
    savepoint = db.session.begin_nested()
    record_event(Actor.system(), "test.event", "test", "savepoint rolled back")
    savepoint.rollback()
    db.session.commit()
    assert _anchor_records(caplog) == []
    _record(1)
    [anchor] = _anchor_records(caplog)
    assert anchor == "{}:{}".format(*_head())


@pytest.mark.parametrize("app_config", [{"IMH_AUDIT_ANCHOR_EVERY": 0}])
def test_anchors_in_the_log_can_be_switched_off(app, caplog):
    caplog.set_level(logging.INFO, logger="imh_course.security")
    _record(EVERY * 2)
    assert _anchor_records(caplog) == []
