"""``flask imh …`` commands: accounts, demo data and the content pipeline."""

from __future__ import annotations

import sys
from datetime import date
from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import with_appcontext

from .database import begin_write
from .extensions import db
from .rules.text import plural
from .security.roles import Role

if TYPE_CHECKING:
    from .models.audit_chain import Anchor


@click.group("imh")
def imh() -> None:
    """Infant Mental Health course module commands."""


@imh.group("content")
def content() -> None:
    """Validate and load readings/ and quizzes/."""


def _content_root():  # noqa: ANN202
    return current_app.extensions["imh_course"].content_root


def _load_catalog_or_exit(outcome: str):  # noqa: ANN202
    """The validated catalog, or every problem printed and exit 1 (``outcome`` says what did not happen)."""
    from .content.loader import ContentError, load_catalog

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
    from .content.sync import sync_catalog

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
    from .content.export import ExportError, export_content

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
    from .models.audit_chain import Actor
    from .operations.accounts import AccountError, create_user

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
    from .models.types import utcnow
    from .operations.demo import DEMO_SIGN_INS, ensure_demo, ensure_demo_story, make_next_meeting_live

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


# Password reset links and backups (security/reliability, issue 8) -----------------------------


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

    from .models.accounts import TokenPurpose
    from .models.audit_chain import Actor, record_event
    from .operations.accounts import find_user
    from .operations.tokens import issue_token
    from .security import log as security_log

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


@imh.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace PATH if it already exists.")
@with_appcontext
def backup(path: str, force: bool) -> None:
    """Copy the SQLite database to PATH (online backup API) and verify the copy."""
    from pathlib import Path

    from .backup import BackupError, backup_database

    try:
        report = backup_database(db.engine, Path(path), overwrite=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backup written and verified. {report.summary()}")


@imh.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
@with_appcontext
def restore(path: str, force: bool) -> None:
    """Replace the SQLite database with the backup at PATH (stop the web server first)."""
    from pathlib import Path

    from .backup import BackupError, restore_database

    db.session.remove()  # close this process's connections before the file changes under them
    db.engine.dispose()
    try:
        report = restore_database(db.engine, Path(path), force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Restored and verified. {report.summary()}")


@imh.group("audit")
def audit() -> None:
    """The append-only, hash-chained audit trail."""


def _parse_anchors(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> list[Anchor]:
    """--anchor values as Anchors; a malformed one is a usage error (exit 2), not a traceback."""
    from .models.audit_chain import Anchor as ParsedAnchor

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
    from .models.audit_chain import check_chain

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
    from .models.audit_chain import check_chain

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


@imh.group("certificates")
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

    from .models.offerings import Offering
    from .operations.stale_certificates import stale_certificates

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

    from .models.audit_chain import Actor
    from .models.offerings import Offering
    from .operations.accounts import find_user
    from .operations.bulk_certificates import active_rows, issue_due, summary
    from .rules.refusals import staff_reasons
    from .security.roles import Permission

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


@imh.group("outbox")
def outbox() -> None:
    """Deliver the queued emails (see README "Email")."""


@outbox.command("run")
@click.option("--once", is_flag=True, help="Deliver everything due now, then exit.")
@with_appcontext
def outbox_run(once: bool) -> None:
    """Claim due messages and deliver them (SMTP, or files when no server is set), and post the queued
    LMS scores (LTI grade passback) each cycle; safe to run twice."""
    import time

    from .lti.grades import send_due as send_due_scores
    from .mail.outbox import deliver_due, worker_name
    from .mail.scheduled import queue_scheduled

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


@imh.group("xapi")
def xapi() -> None:
    """Send the queued xAPI statements to the Learning Record Store (see README "Learning Record Store")."""


@xapi.command("run")
@click.option("--once", is_flag=True, help="Send everything due now, then exit.")
@with_appcontext
def xapi_run(once: bool) -> None:
    """Claim due statements and PUT each to the LRS under its own id; safe to run twice."""
    import time

    from .xapi.queue import deliver_due, enabled

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

    from .mail.scheduled import queue_scheduled

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


from .credentials.cli import credentials as _credentials  # noqa: E402

imh.add_command(_credentials)
