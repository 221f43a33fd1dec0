"""Engine tuning so exactly-once writes hold on SQLite as they do on PostgreSQL.

SQLite: WAL for concurrent readers, a busy timeout so writers queue instead of failing, foreign
keys on, and every transaction opened with ``BEGIN IMMEDIATE`` so a check-then-insert cannot
interleave with another writer (pysqlite's own deferred BEGIN lets both threads read first).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

_CONFIGURED = "imh_configured"


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name != "sqlite" or engine.pool.__dict__.get(_CONFIGURED):
        return
    engine.pool.__dict__[_CONFIGURED] = True

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy's begin event issue BEGIN
        cursor = dbapi_conn.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
