"""``flask imh content validate|sync|export``: the readings/ and quizzes/ files and the database."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from ..database import begin_write
from ..extensions import db
from ..rules.text import plural


@click.group("content")
def content() -> None:
    """Validate and load readings/ and quizzes/."""


def _content_root():  # noqa: ANN202
    return current_app.extensions["imh_course"].content_root


def _load_catalog_or_exit(outcome: str):  # noqa: ANN202
    """The validated catalog, or every problem printed and exit 1 (``outcome`` says what did not happen)."""
    from ..content.loader import ContentError, load_catalog

    try:
        return load_catalog(_content_root())
    except ContentError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{plural(len(exc.problems), 'problem')} found; {outcome}.", err=True)
        sys.exit(1)


@content.command("validate")
@with_appcontext
def content_validate() -> None:
    """Check every content file; print every problem with file and field; exit 1 if any."""
    catalog = _load_catalog_or_exit("nothing was loaded")
    items = sum(len(s.readings) + len(s.manifest.exercises) + (s.quiz is not None) for s in catalog.sessions)
    click.echo(
        f"Content is valid: {plural(len(catalog.sessions), 'session')}, "
        f"{plural(items, 'item')} (readings, exercises and quizzes)."
    )


@content.command("sync")
@with_appcontext
def content_sync() -> None:
    """Load the content into the database in one transaction (all or nothing); safe to repeat."""
    from ..content.sync import sync_catalog

    catalog = _load_catalog_or_exit("the database was not changed")
    try:
        begin_write()
        with click.progressbar(
            length=len(catalog.sessions), label="Syncing sessions", file=sys.stderr
        ) as bar:
            report = sync_catalog(catalog, progress=lambda _s: bar.update(1))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    click.echo(f"Content synced: {report.summary()}.")


@content.command("export")
@click.option(
    "--into",
    "target",
    type=click.Path(file_okay=False, writable=True),
    default=None,
    help="Folder to write readings/ and quizzes/ into (default: the content root).",
)
@with_appcontext
def content_export(target: str | None) -> None:
    """Write the database's current content back to readings/ and quizzes/ (the files sync reads)."""
    from ..content.export import ExportError, export_content

    try:
        result = export_content(target or _content_root())
    except ExportError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        click.echo("Nothing was written.", err=True)
        sys.exit(1)
    for rel in result.written:
        click.echo(f"wrote {rel}")
    for rel in result.removed:
        click.echo(f"removed {rel} (no longer in the database)")
    if result.unpublished:
        click.echo(
            "Note: unpublished items were exported (files have no 'published' flag; a new database "
            "loading them publishes them): " + ", ".join(result.unpublished),
            err=True,
        )
    click.echo(
        f"Exported {plural(len(result.files), 'file')} to {result.target}: "
        f"{len(result.written)} written, {len(result.removed)} removed, "
        f"{len(result.files) - len(result.written)} unchanged."
    )
