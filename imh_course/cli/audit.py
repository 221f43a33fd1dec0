"""``flask imh audit verify|anchor``: the hash-chained audit trail checked, and its head printed to keep."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click
from flask.cli import with_appcontext

from ..extensions import db
from ..rules.text import plural

if TYPE_CHECKING:
    from ..models.audit_chain import Anchor


@click.group("audit")
def audit() -> None:
    """The append-only, hash-chained audit trail."""


def _parse_anchors(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> list[Anchor]:
    """--anchor values as Anchors; a malformed one is a usage error (exit 2), not a traceback."""
    from ..models.audit_chain import Anchor as ParsedAnchor

    try:
        return [ParsedAnchor.parse(value) for value in values]
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


@audit.command("verify")
@click.option(
    "--anchor",
    "anchors",
    multiple=True,
    callback=_parse_anchors,
    metavar="SEQ:HASH",
    help="An anchor kept earlier (`flask imh audit anchor`, or `audit.anchor` in the security log): "
    "fail unless the chain still reaches that event with that hash. Repeatable.",
)
@with_appcontext
def audit_verify(anchors: list[Anchor]) -> None:
    """Recompute the hash chain; report the first broken event or unreached anchor and exit 1 if any."""
    from ..models.audit_chain import check_chain

    report = check_chain(anchors)
    db.session.rollback()
    if report.broken is not None:
        broken = report.broken
        click.echo(f"Audit trail BROKEN at event {broken.event_id}: {broken.problem}.", err=True)
        click.echo(
            f"{plural(report.checked, 'event')} checked; events from {broken.event_id} on are suspect.",
            err=True,
        )
        sys.exit(1)
    if report.missed:
        for miss in report.missed:
            click.echo(f"Audit trail does NOT reach anchor {miss.anchor.seq}: {miss.problem}.", err=True)
        click.echo(
            f"{plural(report.checked, 'event')} {'forms' if report.checked == 1 else 'form'} "
            "an intact chain, but it no longer reaches every anchor.",
            err=True,
        )
        sys.exit(1)
    if anchors:
        reached = ", ".join(str(anchor.seq) for anchor in sorted(anchors, key=lambda a: a.seq))
        click.echo(
            f"Audit trail intact: {plural(report.checked, 'event')} verified, reaches anchor {reached}."
        )
        return
    click.echo(f"Audit trail intact: {plural(report.checked, 'event')} verified.")
    if report.checked == 0:
        click.echo(
            "The trail is empty. If events were ever recorded, it has been emptied: "
            "verify with --anchor SEQ:HASH from your kept anchors or the security log.",
            err=True,
        )
    else:
        click.echo(
            "Removal of the newest events shows only against an anchor: "
            "add --anchor SEQ:HASH (from `flask imh audit anchor` or the security log's audit.anchor).",
            err=True,
        )


@audit.command("anchor")
@with_appcontext
def audit_anchor() -> None:
    """Print the chain's head as SEQ:HASH (after verifying it) for the operator to keep off the server."""
    from ..models.audit_chain import check_chain

    report = check_chain()
    db.session.rollback()
    if report.broken is not None:
        raise click.ClickException(
            f"The audit trail is broken at event {report.broken.event_id} ({report.broken.problem}); "
            "an anchor of a broken chain proves nothing. Run `flask imh audit verify`."
        )
    if report.head is None:
        raise click.ClickException("The audit trail is empty: there is no event to anchor yet.")
    click.echo(str(report.head))
    click.echo(
        f"Keep this anchor off the server (with the backups, or in a ticket): "
        f"`flask imh audit verify --anchor {report.head}` fails if event {report.head.seq} "
        "or anything before it is later removed or rewritten.",
        err=True,
    )
