"""Engine tuning so exactly-once writes hold on SQLite as they do on PostgreSQL.

SQLite: WAL so readers never block the writer, a busy timeout so writers queue instead of failing,
foreign keys on, and write transactions opened with ``BEGIN IMMEDIATE``: the write lock is taken
up front, so a check-then-insert cannot interleave with another writer (pysqlite's deferred BEGIN
lets both threads read first). A request that writes (POST, PUT, PATCH, DELETE) begins IMMEDIATE;
a GET begins a plain deferred transaction so pages keep reading in parallel. Code outside a
request (CLI, tests) asks for the write lock with :func:`begin_write`.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, has_request_context, request
from sqlalchemy import Select, event
from sqlalchemy.engine import Engine

from .extensions import db

_CONFIGURED = "imh_configured"
IMMEDIATE_OPTION = "imh_immediate"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name != "sqlite" or engine.pool.__dict__.get(_CONFIGURED):
        return
    engine.pool.__dict__[_CONFIGURED] = True

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let the begin event below issue BEGIN
        cursor = dbapi_conn.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(IMMEDIATE_OPTION)
        if immediate is None:
            immediate = has_request_context() and request.method not in SAFE_METHODS
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def begin_write() -> None:
    """Start the session's transaction holding SQLite's write lock (no-op elsewhere and if begun)."""
    if not db.session().in_transaction():
        db.session.connection(execution_options={IMMEDIATE_OPTION: True})


def serialize_writers(topic: str) -> None:
    """Make concurrent transactions on ``topic`` take turns (until commit or rollback).

    PostgreSQL: a transaction-scoped advisory lock. SQLite needs nothing: a writing transaction
    already holds the database's single write lock (BEGIN IMMEDIATE).
    """
    import zlib

    from sqlalchemy import text

    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(topic.encode())})


def locked(statement: Select[Any], *, skip_locked: bool = False) -> Select[Any]:
    """``statement`` as a locked re-read: ``FOR UPDATE`` and rows refreshed from the database.

    Without ``populate_existing`` SQLAlchemy hands back the identity-map copy an earlier read of
    the request loaded, so on PostgreSQL a writer that waited for the lock would still see the
    values from before the other writer committed. Every locked read goes through here.

    ``skip_locked``: rows another transaction holds are passed over, not waited for (a queue's
    workers each claim different rows; PostgreSQL — SQLite serialises writers anyway).
    """
    return statement.with_for_update(skip_locked=skip_locked).execution_options(populate_existing=True)


def remove_session_after_response(exc: BaseException | None) -> None:
    """Teardown: close the request's session; an error while closing is logged, never raised.

    It runs after the view committed and the response was built, so raising here (a PostgreSQL
    restart breaking the connection as it goes back to the pool) would turn a saved change into
    an empty 500 from the WSGI server. The session is dropped from the registry either way so no
    later context inherits a broken one. Errors before or during commit are not affected: they
    reach the error pages (which roll back) before teardown.
    """
    try:
        db.session.remove()
    except Exception:
        logging.getLogger("imh_course.database").warning(
            "error closing the database session after the response (the request's work stands)",
            exc_info=True,
        )
        db.session.registry.clear()


def install_session_teardown(app: Flask) -> None:
    """Use :func:`remove_session_after_response` instead of Flask-SQLAlchemy's bare ``remove()``."""
    funcs = app.teardown_appcontext_funcs
    funcs[:] = [f for f in funcs if getattr(f, "__func__", None) is not type(db)._teardown_session]
    if remove_session_after_response not in funcs:
        app.teardown_appcontext(remove_session_after_response)
