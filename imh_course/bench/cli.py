"""``flask imh bench seed``: generate the benchmark data set with a progress bar."""

from __future__ import annotations

import sys
import time

import click
from flask.cli import with_appcontext

from ..database import begin_write
from ..extensions import db

PASSWORD = "bench-password-2026"  # noqa: S105 - every bench account's password, printed on purpose


@click.group("bench")
def bench() -> None:
    """Benchmark data."""


@bench.command("seed")
@click.option("--learners", default=10_000, show_default=True, type=click.IntRange(1, 200_000))
@click.option("--one-offering", is_flag=True, help="All of them in one offering (default: 1,000, then 200s).")
@with_appcontext
def bench_seed(learners: int, one_offering: bool) -> None:
    """Add LEARNERS learners with a full term of attendance, progress, attempts and certificates."""
    from ..security.auth import hash_password
    from .seed import seed

    started = time.perf_counter()
    begin_write()
    with click.progressbar(length=learners, label="Seeding learners", file=sys.stderr) as bar:
        report = seed(
            learners, password_hash=hash_password(PASSWORD), tick=bar.update, one_offering=one_offering
        )
    db.session.commit()
    click.echo(
        f"Seeded {report.learners} learners in {report.offerings} offerings: {report.attendance} attendance, "
        f"{report.progress} progress, {report.attempts} quiz attempts, {report.certificates} certificates "
        f"in {time.perf_counter() - started:.1f} s. Password of every bench account: {PASSWORD}."
    )


@bench.command("learners")
@click.option("--count", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option(
    "--prefix", default="bench-journey", show_default=True, help="E-mails are PREFIX-<id>@example.org."
)
@click.option("--offering", "offering_id", type=int, help="Offering id (default: the newest offering).")
@with_appcontext
def bench_learners(count: int, prefix: str, offering_id: int | None) -> None:
    """Add COUNT learners with no activity, enrolled in one offering (for load tests).

    Prints one line per learner: offering id and e-mail. Password: bench-password-2026.
    """
    from ..security.auth import hash_password
    from .cohorts import fresh_learners, newest_offering_id

    begin_write()
    offering_id = offering_id or newest_offering_id()
    emails = fresh_learners(offering_id, count, prefix=prefix, password_hash=hash_password(PASSWORD))
    db.session.commit()
    for email in emails:
        click.echo(f"{offering_id} {email}")


@bench.command("ready")
@click.option("--count", default=200, show_default=True, type=click.IntRange(1, 10_000))
@with_appcontext
def bench_ready(count: int) -> None:
    """Add an offering whose COUNT learners are all due a CE certificate (to time a bulk issue)."""
    from ..security.auth import hash_password
    from .cohorts import ready_for_certificates

    begin_write()
    offering_id = ready_for_certificates(count, password_hash=hash_password(PASSWORD))
    db.session.commit()
    click.echo(f"Offering {offering_id}: {count} learners due a CE certificate (bench-ready-*@example.org).")
