"""``flask imh certificates stale|issue``: certificates whose records changed, and bulk issue."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from ..database import begin_write
from ..extensions import db
from ..rules.text import plural
from ..security.roles import Role


@click.group("certificates")
def certificates() -> None:
    """Issue certificates in bulk; list those whose records changed since issue."""


@certificates.command("stale")
@click.option("--offering", "offering_id", type=int, default=None, help="One offering's id (default: all).")
@with_appcontext
def certificates_stale(offering_id: int | None) -> None:
    """List valid certificates whose records changed since issue ("reissue needed"); exit 1 if any.

    Read-only: nothing is reissued (a coordinator does that, with a reason, from the "Needs reissue"
    page). Usable in a nightly job: the exit code says whether anything needs a coordinator.
    """
    from sqlalchemy import select

    from ..models.offerings import Offering
    from ..operations.stale_certificates import stale_certificates

    if offering_id is not None:
        offering = db.session.get(Offering, offering_id)
        if offering is None:
            raise click.ClickException(f"No offering with id {offering_id}.")
        offerings = [offering]
    else:
        offerings = list(db.session.scalars(select(Offering).order_by(Offering.year, Offering.id)))
    found = 0
    for offering in offerings:
        for item in stale_certificates(offering).values():
            found += 1
            changes = "; ".join(c.text for c in item.changes) or "no recorded change"
            click.echo(
                f"{item.learner_name} · {item.offering_label} (offering {item.offering_id}) · "
                f"{item.public_id} v{item.version}: {item.summary} [{changes}]"
            )
    checked = plural(len(offerings), "offering")
    if found:
        click.echo(
            f"{plural(found, 'certificate')} need{'s' if found == 1 else ''} reissue ({checked} checked)."
        )
        sys.exit(1)
    click.echo(f"No certificate needs reissue ({checked} checked).")


@certificates.command("issue")
@click.option("--offering", "offering_id", type=int, required=True, help="The offering's id.")
@click.option(
    "--coordinator", "coordinator_email", required=True, help="The coordinator named on the certificates."
)
@click.option(
    "--base-url", default=None, help="The site's address for verification links (else IMH_BASE_URL)."
)
@with_appcontext
def certificates_issue(offering_id: int, coordinator_email: str, base_url: str | None) -> None:
    """Issue every due certificate of an offering (eligible, active, none valid yet); safe to repeat."""
    from contextlib import nullcontext

    from ..models.audit_chain import Actor
    from ..models.offerings import Offering
    from ..operations.accounts import find_user
    from ..operations.bulk_certificates import active_rows, issue_due, summary
    from ..rules.refusals import staff_reasons
    from ..security.roles import Permission

    base = (base_url or current_app.config.get("IMH_BASE_URL") or "").rstrip("/")
    if not base and not current_app.config.get("SERVER_NAME"):
        raise click.ClickException(
            "Certificates print their verification link: set IMH_BASE_URL or pass --base-url https://…"
        )
    site = current_app.test_request_context("/", base_url=base) if base else nullcontext()
    try:
        begin_write()
        offering = db.session.get(Offering, offering_id)
        if offering is None:
            raise click.ClickException(f"No offering with id {offering_id}.")
        coordinator = find_user(coordinator_email)
        if coordinator is None or not coordinator.can(Permission.ISSUE_CERTIFICATES):
            raise click.ClickException(
                f"{coordinator_email} is not a coordinator who may issue certificates."
            )
        actor = Actor(user=coordinator, role=Role.COORDINATOR.value)
        with site:
            rows = active_rows(offering)
            with click.progressbar(length=len(rows), label="Issuing certificates", file=sys.stderr) as bar:
                result = issue_due(actor, offering, rows=rows, progress=lambda _row: bar.update(1))
        label = offering.label
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    click.echo(f"{label}: {summary(result)}.")
    for name, reasons in result.not_eligible:
        click.echo(f"  not eligible: {name}: {'; '.join(staff_reasons(name, reasons))}", err=True)
    for name, message in result.failed:
        click.echo(f"  failed: {name}: {message}", err=True)
    if result.failed:
        sys.exit(1)
