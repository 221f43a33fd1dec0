"""Benchmark harness: seed a statewide data set, then time the pages and operations that matter.

Usage:  python bench/run.py [--learners 10000] [--database-url postgresql+psycopg://…] [--runs 30]
        python bench/run.py --keep-db /tmp/bench.sqlite3 --only "dashboard,matrix"   (iterate on rows)
(``make bench`` runs it on SQLite.) Requests go through the WSGI app in process, so the numbers are
the application's own cost (routing, queries, templates), without network or server overhead. Each
median is also shown as a ratio to a baseline page — a signed-in request that runs one trivial query
and renders the bare layout — so results compare across machines. Writes bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import render_template  # noqa: E402
from flask_login import login_required  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, select, text  # noqa: E402

from app import create_app  # noqa: E402
from bench.timing import Result, StatementCounter, measure  # noqa: E402
from imh_course.extensions import db  # noqa: E402

TARGETS_MS = {
    "learner dashboard": 12,
    "session page": 12,
    "quiz submission": 25,
    # issue 17: the first page of the matrix, whatever the filter or sort, at a third of its cost before
    "completion matrix (200 learners)": 15,
    "completion matrix (1,000 learners)": 40,
    "completion matrix (5,000 learners)": 40,
    "completion matrix (1,000 learners, license filter)": 40,
    "completion matrix (1,000 learners, at risk)": 40,
    "completion matrix (1,000 learners, no certificate)": 40,
    "completion matrix (1,000 learners, each sort in turn)": 40,
    "CE roster export (all learners)": 2000,
    "certificate PDF (one)": 40,
    "bulk issue 200 certificates + ZIP": 15000,
}
# Pages that must also stay within this multiple of the baseline page.
RATIO_TARGETS = {
    "learner dashboard": 3.0,
    "session page": 3.0,
    # issue 17: a third of the matrix's ratios before it (16.4× and 45.2× on SQLite, 2026-11-24)
    "completion matrix (200 learners)": 5.5,
    "completion matrix (1,000 learners)": 15.0,
}
# Extra memory (tracemalloc peak) allowed.
MEMORY_TARGETS_MB = {"CE roster export (all learners)": 40}
# PostgreSQL may take this multiple of each target.
PG_FACTOR = 1.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=int(os.environ.get("IMH_BENCH_LEARNERS", 10_000)))
    parser.add_argument("--database-url", default=os.environ.get("IMH_BENCH_DATABASE_URL"))
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--cohort",
        type=int,
        default=int(os.environ.get("IMH_BENCH_COHORT", 5_000)),
        help="learners of one more offering, for the matrix at that size (0: none)",
    )
    parser.add_argument("--output", default=str(ROOT / "bench" / "RESULTS.md"))
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated parts of row names to measure (others skipped); implies --no-write",
    )
    parser.add_argument(
        "--keep-db",
        metavar="PATH",
        help="SQLite file to seed once and reuse on later runs (for iterating on one row)",
    )
    parser.add_argument("--no-write", action="store_true", help="print the table, leave RESULTS.md alone")
    args = parser.parse_args()
    only = [part.strip() for part in args.only.split(",") if part.strip()]

    from bench.report import load_average

    load_before = load_average()
    workdir = Path(tempfile.mkdtemp(prefix="imh-bench-"))
    kept = Path(args.keep_db).resolve() if args.keep_db else None
    reuse = kept is not None and kept.exists()
    url = args.database_url or f"sqlite:///{kept or workdir / 'bench.sqlite3'}"
    if url.startswith("postgresql"):
        _reset_postgres(url)
    app = create_app({"IMH_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
    _add_baseline_route(app)
    with app.app_context():
        print(f"== database: {db.engine.dialect.name}; migrating and loading content", flush=True)
        upgrade(directory=app.config["IMH_MIGRATIONS_DIR"])
        runner = app.test_cli_runner()
        setup = (
            ["imh", "content", "sync"],
            ["imh", "bench", "seed", "--learners", str(args.learners)],
            ["imh", "bench", "ready", "--count", "200"],
        ) + (
            (["imh", "bench", "seed", "--learners", str(args.cohort), "--one-offering"],)
            if args.cohort
            else ()
        )
        for command in setup[:1] if reuse else setup:
            result = runner.invoke(args=command)
            print(result.output.strip(), flush=True)
            if result.exit_code != 0:
                raise SystemExit(result.output)
        counter = StatementCounter()
        event.listen(db.engine, "before_cursor_execute", counter)
        from bench.scenarios import run_scenarios

        selective = measure
        if only:

            def selective(name, *rest, **kw):  # noqa: ANN001, ANN202
                return measure(name, *rest, **kw) if any(p in name for p in only) else None

        results = [r for r in run_scenarios(app, args.runs, counter, selective, only=only) if r is not None]
    _note_memory_growth(results)
    if only or args.no_write:
        from bench.report import format_plain

        print(format_plain(results))
        return 0
    write_results(Path(args.output), results, args, db_name=url.split(":")[0], load_before=load_before)
    print(Path(args.output).read_text())
    return 0


def _note_memory_growth(results: list[Result]) -> None:
    """Streaming means flat memory: the export's peak for one offering of 1,000 learners and for all."""
    by_name = {r.name: r for r in results}
    small, large = (
        by_name.get("CE roster export (1,000 learners)"),
        by_name.get("CE roster export (all learners)"),
    )
    if small is None or large is None or small.peak_mb is None or large.peak_mb is None:
        return
    large.note = (
        f"streamed: peak {large.peak_mb:.1f} MB for all learners against {small.peak_mb:.1f} MB for one "
        f"offering of 1,000 ({large.peak_mb / max(small.peak_mb, 0.01):.1f}× the memory for 10× the rows)"
    )


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _add_baseline_route(app) -> None:  # noqa: ANN001
    @login_required
    def baseline():  # noqa: ANN202
        db.session.execute(select(1)).scalar()
        return render_template("imh_course/base.html")

    app.add_url_rule("/_bench/baseline", "bench_baseline", baseline)


def write_results(
    path: Path, results: list[Result], args: argparse.Namespace, *, db_name: str, load_before: str
) -> None:
    """Replace this database's section of RESULTS.md; PostgreSQL rows are compared with SQLite's."""
    from bench.report import load_average, read_sections, replace_section, table_medians

    postgres = db_name.startswith("postgresql")
    heading = "PostgreSQL (in-process)" if postgres else "SQLite (in-process)"
    sqlite = table_medians(read_sections(path).get("SQLite (in-process)", "")) if postgres else {}
    factor = PG_FACTOR if postgres else 1.0
    baseline = next((r for r in results if r.name == "baseline page"), None)
    command = f"python bench/run.py --learners {args.learners} --runs {args.runs} --cohort {args.cohort}"
    if postgres:
        command += " --database-url postgresql+psycopg://…"
    lines = [
        f"`{command}` on {db_name}, {os.cpu_count()} cores, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"load average before {load_before}, after {load_average()}.",
        "In-process WSGI requests (no network). Ratio = median ÷ baseline median. CPU = median CPU "
        "time of the benchmark thread (the code's own cost, whatever the load; excludes PostgreSQL's "
        "work)." + (" PostgreSQL targets are 1.5 × the SQLite ones." if postgres else ""),
        "",
        "| what | median ms | p95 ms | CPU ms | × baseline | SQL statements | peak MB | target | met |"
        + (" × SQLite |" if postgres else ""),
        "|---|---:|---:|---:|---:|---:|---:|---|---|" + ("---:|" if postgres else ""),
    ]
    for r in results:
        target = TARGETS_MS.get(r.name)
        if target is not None:
            target = target * factor
        ratio = f"{r.median / baseline.median:.1f}" if baseline and r.timings_ms else ""
        met = "" if target is None or not r.timings_ms else ("yes" if r.median <= target else "**no**")
        if r.name in RATIO_TARGETS and baseline and r.timings_ms:
            within = r.median / baseline.median <= RATIO_TARGETS[r.name]
            met += f"; ≤ {RATIO_TARGETS[r.name]:g}× baseline: {'yes' if within else '**no**'}"
        if r.peak_mb is not None and r.name in MEMORY_TARGETS_MB:
            limit = MEMORY_TARGETS_MB[r.name]
            met += f"; ≤ {limit} MB: {'yes' if r.peak_mb <= limit else '**no**'}"
        peak = f"{r.peak_mb:.1f}" if r.peak_mb is not None else ""
        median = f"{r.median:.1f}" if r.timings_ms else "n/a"
        p95 = f"{r.p95:.1f}" if r.timings_ms else "n/a"
        cpu = f"{r.cpu_median:.1f}" if r.cpu_ms else ""
        shown = f"≤ {target:g} ms" if target else ""
        row = f"| {r.name} | {median} | {p95} | {cpu} | {ratio} | {r.statements} | {peak} | {shown} | {met} |"
        if postgres:
            row += f" {r.median / sqlite[r.name]:.1f} |" if r.name in sqlite and r.timings_ms else " |"
        lines.append(row)
    notes = [r for r in results if r.note]
    if notes:
        lines += ["", "Notes:", ""] + [f"- **{r.name}**: {r.note}" for r in notes]
    replace_section(path, heading, "\n".join(lines))


if __name__ == "__main__":
    raise SystemExit(main())
