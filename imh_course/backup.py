"""Backups of the SQLite database, made and restored with SQLite's online backup API.

The backup API copies a consistent snapshot while the site keeps running (readers and writers
simply wait for the page copy), unlike copying the file, which can tear a WAL database. Every
copy is verified before it counts: re-opened, ``PRAGMA integrity_check``, a row count for every
``imh_`` table and a walk of the audit hash chain. PostgreSQL has its own tools (pg_dump,
pg_restore); these functions refuse it and say so.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from .models.audit import AuditEvent
from .models.audit_chain import event_digest, hashed_fields
from .rules.text import plural
from .security import log as security_log

POSTGRES_HINT = (
    "This database is PostgreSQL; back it up and restore it with PostgreSQL's own tools, e.g.\n"
    '  pg_dump --format=custom --file=imh-$(date +%F).dump "postgresql://USER@HOST/DB"\n'
    '  pg_restore --clean --if-exists --no-owner --dbname="postgresql://USER@HOST/DB" imh-YYYY-MM-DD.dump\n'
    "(README, section Backups)."
)
BUSY_TIMEOUT_SECONDS = 15


class BackupError(RuntimeError):
    """A backup or restore was refused or failed; the message says why and what to do."""


@dataclass
class CopyReport:
    """What a verified copy holds."""

    path: Path
    integrity: str
    row_counts: dict[str, int] = field(default_factory=dict)
    audit_events: int = 0
    chain_problem: str | None = None
    chain_break_event: int | None = None

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())

    def summary(self) -> str:
        chain = "intact" if self.chain_problem is None else f"BROKEN ({self.chain_problem})"
        return (
            f"{self.path}: integrity {self.integrity}; {plural(len(self.row_counts), 'table')}, "
            f"{plural(self.total_rows, 'row')}; audit trail of {plural(self.audit_events, 'event')}, "
            f"hash chain {chain}."
        )


def sqlite_file(engine: Engine) -> Path:
    """The database file behind ``engine``; a clear refusal for anything else."""
    if engine.dialect.name == "postgresql":
        raise BackupError(POSTGRES_HINT)
    if engine.dialect.name != "sqlite":
        raise BackupError(f"Backups are built in for SQLite only, not {engine.dialect.name}.")
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("This SQLite database has no plain file to back up.")
    return Path(database).resolve()


def backup_database(engine: Engine, target: Path, *, overwrite: bool = False) -> CopyReport:
    """Copy the live database to ``target`` (written aside, verified, then moved into place)."""
    source = sqlite_file(engine)
    target = Path(target).resolve()
    if target == source:
        raise BackupError("The backup must go to a different file than the database itself.")
    if target.exists() and not overwrite:
        raise BackupError(f"{target} already exists; choose another name or add --force to replace it.")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with (
            closing(sqlite3.connect(source, timeout=BUSY_TIMEOUT_SECONDS)) as src,
            closing(sqlite3.connect(partial)) as dst,
        ):
            src.backup(dst)  # one step: a consistent snapshot
            dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
        report = verify_copy(partial)
        if report.integrity != "ok":
            raise BackupError(f"The copy failed its integrity check ({report.integrity}); nothing was kept.")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    report.path = target
    _log_chain(report, "backup")
    return report


def restore_database(engine: Engine, backup: Path, *, force: bool = False) -> CopyReport:
    """Replace the database behind ``engine`` with the verified contents of ``backup``.

    The caller closes the app's own connections first (``db.session.remove(); engine.dispose()``);
    other processes should be stopped — SQLite's locking keeps them out during the copy.
    """
    target = sqlite_file(engine)
    backup = Path(backup).resolve()
    if backup == target:
        raise BackupError("The backup file is the database itself.")
    source = verify_copy(backup, read_only=True)
    if source.integrity != "ok":
        raise BackupError(f"{backup} is damaged ({source.integrity}); nothing was restored.")
    if not source.row_counts:
        raise BackupError(f"{backup} holds no imh_ tables: it is not a backup of this module.")
    if source.chain_problem is not None:
        _log_chain(source, "restore-source")
        if not force:
            raise BackupError(
                f"The audit trail in {backup} does not verify ({source.chain_problem}); "
                "add --force to restore it anyway."
            )
    existing = row_counts(target) if target.exists() else {}
    if sum(existing.values()) and not force:
        raise BackupError(
            f"{target} already holds data ({sum(existing.values())} rows in imh_ tables). Restoring "
            "replaces all of it: back it up first, then run restore again with --force."
        )
    engine.dispose()  # no pooled connection of ours may keep an old view of the file
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        closing(sqlite3.connect(_readonly_uri(backup), uri=True)) as src,
        closing(sqlite3.connect(target, timeout=BUSY_TIMEOUT_SECONDS)) as dst,
    ):
        src.backup(dst)
    restored = verify_copy(target)
    if restored.integrity != "ok" or restored.row_counts != source.row_counts:
        raise BackupError(f"The restored database does not match {backup}; restore it again.")
    _log_chain(restored, "restore")
    return restored


def verify_copy(path: Path, *, read_only: bool = False) -> CopyReport:
    """Re-open ``path``: integrity check, rows per imh_ table, audit chain."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} does not exist.")
    try:
        with closing(_connect(path, read_only)) as conn:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
            integrity = "ok" if rows == [("ok",)] else "; ".join(str(r[0]) for r in rows[:5])
            counts = _count_rows(conn)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database ({exc}).") from exc
    report = CopyReport(path=path, integrity=integrity, row_counts=counts)
    if "imh_audit_event" in counts:
        report.audit_events, report.chain_break_event, report.chain_problem = audit_chain_problem(path)
    return report


def row_counts(path: Path) -> dict[str, int]:
    with closing(_connect(path, read_only=False)) as conn:  # a live WAL file: open it normally
        return _count_rows(conn)


def audit_chain_problem(path: Path) -> tuple[int, int | None, str | None]:
    """Walk the audit hash chain in the file ``path``: (events, breaking event id, problem)."""
    engine = create_engine("sqlite:///" + _readonly_uri(path) + "&uri=true")
    try:
        with Session(engine) as session:
            prev, count = "", 0
            for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(500):
                count += 1
                if event.prev_hash != prev:
                    return count, event.id, f"event {event.id}: prev_hash does not match the previous event"
                if event_digest(hashed_fields(event), prev) != event.hash:
                    return count, event.id, f"event {event.id}: contents do not match the stored hash"
                prev = event.hash
            return count, None, None
    finally:
        engine.dispose()


def _count_rows(conn: sqlite3.Connection) -> dict[str, int]:
    names = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'imh\\_%' ESCAPE '\\' "
            "ORDER BY name"
        )
    ]
    # Table names come from sqlite_master and are quoted; nothing user-supplied reaches the SQL.
    return {name: conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for name in names}  # noqa: S608


def _readonly_uri(path: Path) -> str:
    return f"file:{Path(path).resolve()}?mode=ro"


def _connect(path: Path, read_only: bool) -> sqlite3.Connection:
    if read_only:
        return sqlite3.connect(_readonly_uri(path), uri=True, timeout=BUSY_TIMEOUT_SECONDS)
    return sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS)


def _log_chain(report: CopyReport, where: str) -> None:
    if report.chain_break_event is not None:
        security_log.audit_chain_failed(report.chain_break_event, report.chain_problem or "", where)
