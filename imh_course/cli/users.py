"""``flask imh user create|reset-link``: accounts made, and password reset links printed, by the operator."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from ..database import begin_write
from ..extensions import db
from ..security.roles import Role


@click.group("user")
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
    from ..models.audit_chain import Actor
    from ..operations.accounts import AccountError, create_user

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


def _external_url(endpoint: str, **values: object) -> tuple[str, bool]:
    """(URL, is absolute): from IMH_BASE_URL, else SERVER_NAME, else just the path."""
    from flask import url_for

    base = (current_app.config.get("IMH_BASE_URL") or "").rstrip("/")
    if base:
        with current_app.test_request_context("/", base_url=base):
            return url_for(endpoint, _external=True, **values), True
    if current_app.config.get("SERVER_NAME"):
        return url_for(endpoint, _external=True, **values), True
    with current_app.test_request_context("/"):
        return url_for(endpoint, **values), False


@user.command("reset-link")
@click.option("--email", required=True, help="The account's sign-in email.")
@click.option(
    "--hours",
    type=click.FloatRange(min=0.25, max=72),
    default=24,
    show_default=True,
    help="How long the link works (it works once).",
)
@with_appcontext
def user_reset_link(email: str, hours: float) -> None:
    """Print a single-use link with which the person sets a new password (send it to them)."""
    from datetime import timedelta

    from ..models.accounts import TokenPurpose
    from ..models.audit_chain import Actor, record_event
    from ..operations.accounts import find_user
    from ..operations.tokens import issue_token
    from ..security import log as security_log

    try:
        begin_write()
        account = find_user(email)
        if account is None or not account.is_enabled:
            raise click.ClickException(f"There is no active account for {email.strip().lower()}.")
        raw = issue_token(account, TokenPurpose.RESET, ttl=timedelta(hours=hours))
        record_event(
            Actor.system(),
            "account.reset_link",
            "user",
            account.id,
            after={"valid_hours": hours},
            learner_id=account.id if account.has_role(Role.LEARNER) else None,
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    security_log.reset_link_issued(account.id, hours)
    link, absolute = _external_url("imh.set_password", token=raw)
    click.echo(link)
    valid = f"{hours:g} hour{'' if hours == 1 else 's'}"  # 0.25 to 72: plural() takes whole counts
    note = f"Single use, valid for {valid}. Send it to {account.email} yourself."
    if not absolute:
        note += " Put the site's address in front (set IMH_BASE_URL to print full links)."
    click.echo(note, err=True)
