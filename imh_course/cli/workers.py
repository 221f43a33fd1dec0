"""``flask imh outbox run|reminders``, ``flask imh xapi run``: the delivery workers, the reminder scan."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from ..rules.text import plural


@click.group("outbox")
def outbox() -> None:
    """Deliver the queued emails (see README "Email")."""


@outbox.command("run")
@click.option("--once", is_flag=True, help="Deliver everything due now, then exit.")
@with_appcontext
def outbox_run(once: bool) -> None:
    """Claim due messages and deliver them (SMTP, or files when no server is set), and post the queued
    LMS scores (LTI grade passback) each cycle; safe to run twice."""
    import time

    from ..delivery import worker_name
    from ..lti.grades import send_due as send_due_scores
    from ..mail.outbox import deliver_due
    from ..mail.scheduled import queue_scheduled

    worker = worker_name()
    poll = float(current_app.config.get("IMH_OUTBOX_POLL_SECONDS") or 5)
    scan_every = float(current_app.config.get("IMH_REMINDER_SCAN_SECONDS") or 0)
    last_scan = float("-inf")
    while True:
        if not once and scan_every > 0 and time.monotonic() - last_scan >= scan_every:
            scanned = queue_scheduled()
            last_scan = time.monotonic()
            if scanned.reminders or scanned.sign_outs:
                click.echo(
                    f"outbox: queued {plural(scanned.reminders, 'reminder')}, "
                    f"{plural(scanned.sign_outs, 'sign-out notice')}",
                    err=True,
                )
        report = deliver_due()
        if report.attempted:
            counts = f"{report.sent} sent, {report.retrying} to retry, {report.failed} failed"
            click.echo(f"outbox: {counts}", err=True)
        scores_sent, scores_failed = send_due_scores(worker)
        if scores_sent or scores_failed:
            click.echo(f"outbox: LMS scores {scores_sent} sent, {scores_failed} to retry", err=True)
        if once:
            return
        time.sleep(poll)


@outbox.command("reminders")
@click.option(
    "--now",
    "now_text",
    default=None,
    help="Pretend it is this moment (ISO 8601 with offset; tests, catch-up).",
)
@with_appcontext
def outbox_reminders(now_text: str | None) -> None:
    """Queue tomorrow's meeting reminders and "no sign-out recorded" notices, each at most once."""
    from datetime import datetime

    from ..mail.scheduled import queue_scheduled

    now = None
    if now_text:
        try:
            now = datetime.fromisoformat(now_text)
        except ValueError as exc:
            raise click.BadParameter(
                "use ISO 8601, e.g. 2026-12-07T09:00:00-05:00", param_hint="--now"
            ) from exc
        if now.tzinfo is None:
            raise click.BadParameter("give a UTC offset, e.g. 2026-12-07T09:00:00-05:00", param_hint="--now")
    report = queue_scheduled(now)
    click.echo(
        f"queued {plural(report.reminders, 'meeting reminder')}, "
        f"{plural(report.sign_outs, 'no-sign-out notice')}"
    )


@click.group("xapi")
def xapi() -> None:
    """Send the queued xAPI statements to the Learning Record Store (see README "Learning Record Store")."""


@xapi.command("run")
@click.option("--once", is_flag=True, help="Send everything due now, then exit.")
@with_appcontext
def xapi_run(once: bool) -> None:
    """Claim due statements and PUT each to the LRS under its own id; safe to run twice."""
    import time

    from ..xapi.queue import deliver_due, enabled

    if not enabled():
        click.echo("xapi: no LRS configured (set IMH_XAPI_ENDPOINT, IMH_XAPI_KEY, IMH_XAPI_SECRET)", err=True)
        sys.exit(1)
    poll = float(current_app.config.get("IMH_XAPI_POLL_SECONDS") or 5)
    while True:
        report = deliver_due()
        if report.attempted:
            counts = f"{report.sent} sent, {report.retrying} to retry, {report.failed} refused"
            click.echo(f"xapi: {counts}", err=True)
        if once:
            return
        time.sleep(poll)
