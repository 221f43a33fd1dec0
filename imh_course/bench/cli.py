"""``flask imh bench seed``: generate the benchmark data set with a progress bar."""

from __future__ import annotations

import sys
import time

import click
from flask.cli import with_appcontext

from ..database import begin_write
from ..extensions import db


@click.group("bench")
def bench() -> None:
    """Benchmark data."""


@bench.command("seed")
@click.option("--learners", default=10_000, show_default=True, type=click.IntRange(1, 200_000))
@with_appcontext
def bench_seed(learners: int) -> None:
    """Add LEARNERS learners with a full term of attendance, progress, attempts and certificates."""
    from ..auth import hash_password
    from .seed import seed

    started = time.perf_counter()
    begin_write()
    with click.progressbar(length=learners, label="Seeding learners", file=sys.stderr) as bar:
        report = seed(learners, password_hash=hash_password("bench-password-2026"), tick=bar.update)
    db.session.commit()
    click.echo(
        f"Seeded {report.learners} learners in {report.offerings} offerings: {report.attendance} attendance, "
        f"{report.progress} progress, {report.attempts} quiz attempts, {report.certificates} certificates "
        f"in {time.perf_counter() - started:.1f} s. Password of every bench account: bench-password-2026."
    )
