"""``flask imh credentials keys create|rotate|list``: the signing keys of the Open Badges credentials."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..extensions import db


@click.group("credentials")
def credentials() -> None:
    """Open Badges 3.0 credentials."""


@credentials.group("keys")
def keys_group() -> None:
    """Signing keys (ES256): create the first, rotate, list."""


@keys_group.command("create")
@with_appcontext
def keys_create() -> None:
    """Create the first signing key (refused when one is already active)."""
    from ..models.audit_chain import Actor
    from . import keys

    try:
        row = keys.create_key(Actor.system())
    except keys.SigningKeyError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"created signing key {row.kid} ({row.algorithm})")


@keys_group.command("rotate")
@with_appcontext
def keys_rotate() -> None:
    """Retire the active key (it keeps verifying what it signed) and create a new one."""
    from ..models.audit_chain import Actor
    from . import keys

    try:
        old, new = keys.rotate_key(Actor.system())
    except keys.SigningKeyError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    if old is not None:
        click.echo(f"retired signing key {old.kid} (still published for verification)")
    click.echo(f"created signing key {new.kid} ({new.algorithm})")


@keys_group.command("list")
@with_appcontext
def keys_list() -> None:
    """Every key, newest last, with its state."""
    from . import keys

    rows = keys.all_keys()
    if not rows:
        click.echo("no signing keys yet: run `flask imh credentials keys create`")
    for row in rows:
        state = f"retired {row.retired_dt:%Y-%m-%d}" if row.retired_dt else "active"
        click.echo(f"{row.kid}  {row.algorithm}  created {row.created_dt:%Y-%m-%d}  {state}")
