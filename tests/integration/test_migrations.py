"""Migrations: a full round trip, and the models agree with the migration history."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from imh_course.extensions import db


def _tables() -> set[str]:
    return {t for t in inspect(db.engine).get_table_names() if t.startswith("imh_")}


def test_round_trip_base_head_base_head(app):
    """upgrade head -> downgrade base -> upgrade head leaves the full schema in place."""
    directory = app.config["IMH_MIGRATIONS_DIR"]
    expected = set(db.metadata.tables)
    assert _tables() == expected
    db.session.remove()
    downgrade(directory=directory, revision="base")
    assert _tables() == set()
    upgrade(directory=directory)
    assert _tables() == expected


def test_models_match_migrations(app):
    """No model change is missing a migration (autogenerate finds nothing to do)."""
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []
