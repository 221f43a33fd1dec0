"""``flask imh backup|restore``: the SQLite database copied out and back, each copy verified."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..extensions import db


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace PATH if it already exists.")
@with_appcontext
def backup(path: str, force: bool) -> None:
    """Copy the SQLite database to PATH (online backup API) and verify the copy."""
    from pathlib import Path

    from ..backup import BackupError, backup_database

    try:
        report = backup_database(db.engine, Path(path), overwrite=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backup written and verified. {report.summary()}")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
@with_appcontext
def restore(path: str, force: bool) -> None:
    """Replace the SQLite database with the backup at PATH (stop the web server first)."""
    from pathlib import Path

    from ..backup import BackupError, restore_database

    db.session.remove()  # close this process's connections before the file changes under them
    db.engine.dispose()
    try:
        report = restore_database(db.engine, Path(path), force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Restored and verified. {report.summary()}")
