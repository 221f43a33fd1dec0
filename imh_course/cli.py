"""``flask imh …`` commands: accounts, demo data and the content pipeline."""

from __future__ import annotations

import sys
from datetime import date

import click
from flask import current_app
from flask.cli import with_appcontext

from .database import begin_write
from .extensions import db
from .roles import Role


@click.group("imh")
def imh() -> None:
    """Infant Mental Health course module commands."""


@imh.group("content")
def content() -> None:
    """Validate and load readings/ and quizzes/."""


def _content_root():  # noqa: ANN202
    return current_app.extensions["imh_course"].content_root


@content.command("validate")
@with_appcontext
def content_validate() -> None:
    """Check every content file; print every problem with file and field; exit 1 if any."""
    from .content.loader import ContentError, load_catalog

    try:
        catalog = load_catalog(_content_root())
    except ContentError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(exc.problems)} problem(s) found; nothing was loaded.", err=True)
        sys.exit(1)
    items = sum(len(s.readings) + len(s.manifest.exercises) + (s.quiz is not None) for s in catalog.sessions)
    click.echo(
        f"Content is valid: {len(catalog.sessions)} sessions, {items} readings, exercises and quizzes."
    )


@content.command("sync")
@with_appcontext
def content_sync() -> None:
    """Load the content into the database in one transaction (all or nothing); safe to repeat."""
    from .content.loader import ContentError, load_catalog
    from .content.sync import sync_catalog

    try:
        catalog = load_catalog(_content_root())
    except ContentError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(exc.problems)} problem(s) found; the database was not changed.", err=True)
        sys.exit(1)
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


@imh.group("user")
def user() -> None:
    """Manage accounts."""


@user.command("create")
@click.option("--email", required=True)
@click.option("--name", "full_name", required=True, help="Full name.")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice([r.value for r in Role]))
@click.password_option(help="At least 12 characters (prompted when omitted).")
@with_appcontext
def user_create(email: str, full_name: str, roles: tuple[str, ...], password: str) -> None:
    """Create an account with one or more roles."""
    from .operations.accounts import AccountError, create_user
    from .operations.audit import Actor

    try:
        begin_write()
        created = create_user(
            Actor.system(),
            email=email,
            full_name=full_name,
            roles=[Role(r) for r in roles],
            password=password,
        )
        db.session.commit()
    except AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created {created.email} ({', '.join(roles)}).")


@imh.command("demo")
@with_appcontext
def demo() -> None:
    """Create the demo offering, its 11 meetings and demo accounts (reuses what exists)."""
    from .operations.demo import DEMO_ACCOUNTS, ensure_demo

    cfg = current_app.config
    try:
        begin_write()
        result = ensure_demo(
            date.today(),
            password=cfg["IMH_DEMO_PASSWORD"],
            provider=cfg["IMH_PROVIDER_NAME"],
            tz_name=cfg["IMH_TIMEZONE"],
        )
        db.session.commit()
    except RuntimeError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    what = "Created" if result.created_offering else "Reusing"
    click.echo(
        f"{what} the demo offering {result.offering.label} with {len(result.offering.meetings)} meetings."
    )
    click.echo(f"Demo sign-ins (password: {cfg['IMH_DEMO_PASSWORD']}):")
    for account in DEMO_ACCOUNTS:
        detail = account.profile.license_type if account.profile else ""
        click.echo(f"  {account.role.value:<12} {account.email:<28} {detail}")
