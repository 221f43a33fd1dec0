"""`flask imh backup` / `restore`: verified SQLite copies; PostgreSQL is pointed to pg_dump/pg_restore.

The round trip always runs on its own SQLite file (backups are a SQLite feature), also when the
rest of the suite runs on PostgreSQL.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select

from app import create_app
from imh_course.backup import row_counts
from imh_course.extensions import db
from imh_course.models import User
from imh_course.models.audit_chain import verify_chain
from tests.conftest import PG_URL, REPO_ROOT, TEST_PASSWORD


def _sqlite_app(path: Path) -> Flask:
    return create_app({"IMH_ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})


def _close(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[tuple[Flask, Path]]:
    """A migrated SQLite database holding the course content and the demo cohort."""
    from imh_course.content.loader import load_catalog
    from imh_course.content.sync import sync_catalog
    from imh_course.operations.demo import ensure_demo

    path = tmp_path / "live.sqlite3"
    app = _sqlite_app(path)
    with app.app_context():
        upgrade(directory=app.config["IMH_MIGRATIONS_DIR"])
        sync_catalog(load_catalog(REPO_ROOT))
        ensure_demo(date.today(), password=TEST_PASSWORD, provider="Test Provider")
        db.session.commit()
        db.session.remove()
    yield app, path
    _close(app)


def _invoke(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=["imh", *args])


def test_backup_then_restore_into_a_fresh_file_finds_every_record(seeded, tmp_path):
    """Back up, restore into an empty file: every imh_ table has its rows and the audit chain verifies."""
    app, live = seeded
    copy = tmp_path / "backups" / "imh.sqlite3"
    result = _invoke(app, "backup", str(copy))
    assert result.exit_code == 0, result.output
    assert "integrity ok" in result.output and "hash chain intact" in result.output
    original = row_counts(live)
    assert original["imh_user"] == 5 and original["imh_audit_event"] > 0
    with closing(sqlite3.connect(copy)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert row_counts(copy) == original

    fresh = _sqlite_app(tmp_path / "restored.sqlite3")
    try:
        result = _invoke(fresh, "restore", str(copy))
        assert result.exit_code == 0, result.output
        assert row_counts(tmp_path / "restored.sqlite3") == original
        with fresh.app_context():
            checked, problem = verify_chain()
            assert problem is None and checked == original["imh_audit_event"]
            emails = set(db.session.scalars(select(User.email)))
            assert "lcsw@example.org" in emails and len(emails) == 5
        client = fresh.test_client()
        assert (
            client.post("/login", data={"email": "lcsw@example.org", "password": TEST_PASSWORD}).status_code
            == 302
        )
    finally:
        _close(fresh)


def test_backup_never_overwrites_without_force(seeded, tmp_path):
    """An existing backup file is kept unless --force says otherwise."""
    app, _live = seeded
    copy = tmp_path / "imh.sqlite3"
    assert _invoke(app, "backup", str(copy)).exit_code == 0
    again = _invoke(app, "backup", str(copy))
    assert again.exit_code == 1 and "already exists" in again.output
    assert _invoke(app, "backup", str(copy), "--force").exit_code == 0


def test_restore_refuses_a_database_with_data_unless_forced(seeded, tmp_path):
    """Restoring over a database that holds data needs --force; without it nothing changes."""
    app, live = seeded
    copy = tmp_path / "imh.sqlite3"
    assert _invoke(app, "backup", str(copy)).exit_code == 0
    with app.app_context():
        from imh_course.models.audit_chain import Actor
        from imh_course.operations.accounts import create_user
        from imh_course.security.roles import Role

        create_user(Actor.system(), email="late@example.org", full_name="Late", roles=[Role.LEARNER])
        db.session.commit()
        db.session.remove()
    before = row_counts(live)
    refused = _invoke(app, "restore", str(copy))
    assert refused.exit_code == 1 and "already holds data" in refused.output and "--force" in refused.output
    assert row_counts(live) == before
    forced = _invoke(app, "restore", str(copy), "--force")
    assert forced.exit_code == 0, forced.output
    assert row_counts(live) == row_counts(copy)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "late@example.org")) is None


def test_restore_refuses_a_file_that_is_not_a_database(seeded, tmp_path):
    """A damaged or foreign file is refused with a clear message and the database is untouched."""
    app, live = seeded
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database" * 100)
    before = row_counts(live)
    result = _invoke(app, "restore", str(junk), "--force")
    assert result.exit_code == 1 and "not a readable SQLite database" in result.output
    assert row_counts(live) == before


def test_restore_refuses_a_backup_whose_audit_trail_was_tampered_with(seeded, tmp_path, caplog):
    """A backup whose audit hash chain does not verify is refused and logged as a security event."""
    caplog.set_level(logging.INFO, logger="imh_course.security")
    app, _live = seeded
    copy = tmp_path / "imh.sqlite3"
    assert _invoke(app, "backup", str(copy)).exit_code == 0
    with closing(sqlite3.connect(copy)) as conn:
        conn.execute("DROP TRIGGER imh_audit_event_no_update")
        conn.execute("UPDATE imh_audit_event SET reason = 'edited afterwards' WHERE id = 2")
        conn.commit()
    fresh = _sqlite_app(tmp_path / "restored.sqlite3")
    try:
        result = _invoke(fresh, "restore", str(copy))
        assert result.exit_code == 1 and "does not verify" in result.output
        assert not (tmp_path / "restored.sqlite3").exists() or not row_counts(tmp_path / "restored.sqlite3")
    finally:
        _close(fresh)
    [record] = [r for r in caplog.records if getattr(r, "security_event", None) == "audit.chain_failure"]
    assert record.levelno == logging.ERROR and "event_id=2" in record.getMessage()


@pytest.fixture
def postgres_app(tmp_path: Path) -> Iterator[Flask]:
    url = PG_URL or "postgresql+psycopg://nobody@127.0.0.1:1/not_used"  # refused before connecting
    app = create_app({"IMH_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url})
    yield app
    _close(app)


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_postgres_is_pointed_to_pg_dump_and_pg_restore(postgres_app, tmp_path, command):
    """On PostgreSQL both commands refuse and show the pg_dump / pg_restore commands to use."""
    target = tmp_path / "x.dump"
    target.write_bytes(b"")
    result = _invoke(postgres_app, command, str(target))
    assert result.exit_code == 1
    assert "pg_dump --format=custom" in result.output and "pg_restore" in result.output
