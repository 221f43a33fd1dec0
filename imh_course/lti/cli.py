"""``flask imh lti …``: the tool's signing keys."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..extensions import db
from ..models.audit_chain import Actor
from . import keys


@click.group("lti")
def lti() -> None:
    """LTI 1.3 tool commands."""


@lti.group("keys")
def keys_group() -> None:
    """The tool's RSA signing keys (published at /lti/jwks.json)."""


@keys_group.command("rotate")
@with_appcontext
def keys_rotate() -> None:
    """Make a new signing key; the previous one stays published; older ones are retired."""
    key, retired = keys.rotate(Actor.system())
    db.session.commit()
    click.echo(f"New signing key {key.kid}.")
    for old in retired:
        click.echo(f"Retired key {old.kid} (no longer published).")


@keys_group.command("list")
@with_appcontext
def keys_list() -> None:
    """Every key: kid, created, retired, and which one signs."""
    live = keys.live_keys()
    signing = live[0].id if live else None
    from sqlalchemy import select

    from ..models.lti import LtiToolKey

    for key in db.session.scalars(select(LtiToolKey).order_by(LtiToolKey.id)):
        state = "signing" if key.id == signing else "retired" if key.retired_dt else "published"
        click.echo(f"{key.kid}  created {key.created_dt:%Y-%m-%d %H:%M} UTC  {state}")


@lti.group("grades")
def grades_group() -> None:
    """Grade passback to the LMS (independent-learning completion; never CE hours)."""


@grades_group.command("scan")
@with_appcontext
def grades_scan() -> None:
    """Queue every changed completion value of LMS learners."""
    from . import grades

    queued = grades.scan()
    db.session.commit()
    click.echo(f"{queued} score(s) queued.")


@grades_group.command("send")
@click.option("--worker", default=None, help="A name for this worker (default: host and process id).")
@with_appcontext
def grades_send(worker: str | None) -> None:
    """Post the due scores to the LMSs (failures are retried later with back-off)."""
    import os
    import socket

    from . import grades

    sent, failed = grades.send_due(worker or f"{socket.gethostname()}:{os.getpid()}")
    click.echo(f"{sent} score(s) sent, {failed} failed (retried later).")
