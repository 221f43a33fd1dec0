"""``flask imh demo``: the demo offerings, records and sign-ins, built idempotently."""

from __future__ import annotations

from datetime import date

import click
from flask import current_app
from flask.cli import with_appcontext

from ..database import begin_write
from ..extensions import db
from ..rules.text import plural


@click.command("demo")
@click.option(
    "--live-meeting", is_flag=True, help="Also move the next meeting to start now, to try self check-in."
)
@click.option(
    "--base-url",
    default=None,
    help="Where the demo is served, for the certificate's verification link "
    "(else IMH_BASE_URL, else http://127.0.0.1:5000).",
)
@with_appcontext
def demo(live_meeting: bool, base_url: str | None) -> None:
    """Build the demo: a mid-term offering with records, a finished one with a certificate, accounts.

    Reuses what exists: running it twice changes nothing.
    """
    from ..models.types import utcnow
    from ..operations.demo import DEMO_SIGN_INS, ensure_demo, ensure_demo_story, make_next_meeting_live

    cfg = current_app.config
    if cfg.get("IMH_ENV") == "production":
        raise click.ClickException("The demo has published passwords: it never runs with IMH_ENV=production.")
    site = (base_url or cfg.get("IMH_BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
    try:
        begin_write()
        result = ensure_demo(
            date.today(),
            password=cfg["IMH_DEMO_PASSWORD"],
            provider=cfg["IMH_PROVIDER_NAME"],
            tz_name=cfg["IMH_TIMEZONE"],
        )
        with current_app.test_request_context("/", base_url=site):  # the certificate prints its /verify link
            story = ensure_demo_story(
                result,
                utcnow(),
                password=cfg["IMH_DEMO_PASSWORD"],
                provider=cfg["IMH_PROVIDER_NAME"],
                tz_name=cfg["IMH_TIMEZONE"],
            )
        moved = make_next_meeting_live(result.offering, utcnow()) if live_meeting else None
        db.session.commit()
    except RuntimeError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    what = "Created" if result.created_offering else "Reusing"
    click.echo(
        f"{what} the demo offering {result.offering.label} "
        f"with {plural(len(result.offering.meetings), 'meeting')}."
    )
    click.echo(
        f"Finished offering {story.finished_offering.label}, its issued certificate: "
        f"{site}/verify/{story.certificate_public_id}"
    )
    if moved is not None:
        click.echo(
            f"Session {moved.session.number} now started 5 minutes ago: open its check-in as the instructor."
        )
    click.echo(f"Demo sign-ins (password: {cfg['IMH_DEMO_PASSWORD']}):")
    for account, shows in DEMO_SIGN_INS:
        click.echo(f"  {account.role.value:<12} {account.email:<26} {shows}")
