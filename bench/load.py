"""Load test under ``make serve``: gunicorn (2 workers × 4 threads) + PostgreSQL + Redis, loopback only.

Usage:  python bench/load.py [--learners 2000] [--journeys 50] [--connections 16] [--seconds 15]
(``make load``). It needs PostgreSQL (postgres@127.0.0.1:5432) and Redis (127.0.0.1:6379), and:

1. drops and recreates the database ``imh_bench_load`` (only that one), migrates it, loads the
   content, seeds ``--learners`` learners (``flask imh bench seed``) and ``--journeys`` fresh learners
   with no activity (``flask imh bench learners``);
2. starts ``scripts/serve.sh`` — what ``make serve`` runs — on 127.0.0.1:``--port`` in production
   mode (CSRF on, Redis rate-limit storage), waits for ``/healthz``;
3. throughput: ``--connections`` signed-in learners request their dashboard over keep-alive
   connections for ``--seconds`` seconds (then ``/healthz`` for 5 s: the server's ceiling here);
4. journeys: ``--journeys`` learners at once sign in → dashboard → session page → mark a reading
   read (and click again) → submit an exercise response → take the quiz (fail, then pass, then
   re-send the passing form) → dashboard, with the CSRF token parsed from each form;
5. checks the database: exactly one completion per learner and reading, one submitted response
   per learner and exercise, attempts numbered 1, 2 (failed, passed) and nothing more;
6. stops the server and writes the section "Under make serve" of bench/RESULTS.md.

Every request goes to 127.0.0.1; every loop is bounded in requests and in seconds; the server
started here is stopped here (by its process id). Sign-in is rate limited per client address: the
server runs with ``IMH_PROXY_COUNT=1`` (as behind one reverse proxy) and each simulated learner
sends its own ``X-Forwarded-For`` address, so the limiter stays on, with Redis, exactly as in
production, and sees 50 different clients rather than one. Standard library only on the client side.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load_client import HOST  # noqa: E402
from bench.load_data import make_plan, verify  # noqa: E402
from bench.load_server import (  # noqa: E402
    DATABASE,
    access_log_5xx,
    check_services,
    flask,
    recreate_database,
    server_env,
    start_server,
    stop_server,
    wait_healthy,
)
from bench.load_traffic import journeys, throughput  # noqa: E402

THROUGHPUT_TARGET = 200.0  # dashboard requests per second (issue 9)


def report(
    args: argparse.Namespace,
    load_before: str,
    tp: dict,
    jr: dict,
    db_check: dict,
    server_5xx: int,
    ceiling: dict,
) -> str:
    from bench.report import load_average

    ok_tp = tp["rps"] >= THROUGHPUT_TARGET and tp["errors"] == 0
    ok_jr = not jr["unexpected"] and not jr["failures"] and not db_check["problems"] and server_5xx == 0
    lines = [
        f"`python bench/load.py --learners {args.learners} --journeys {args.journeys} --connections "
        f"{args.connections} --seconds {args.seconds:g}` "
        f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}): "
        f"`scripts/serve.sh` (gunicorn, 2 workers × 4 threads, production config, CSRF on), PostgreSQL "
        f"database `{DATABASE}` (recreated), Redis rate-limit storage; client and server on this "
        f"{os.cpu_count()}-core machine (the client's own CPU use is shown). Load average before "
        f"{load_before}, after {load_average()}.",
        "",
        "| measurement | result | target | met |",
        "|---|---|---|---|",
        f"| learner dashboard throughput, {tp['connections']} keep-alive connections, {tp['seconds']:g} s "
        f"| **{tp['rps']:.0f} req/s** ({tp['requests']} requests; median {tp['median_ms']:.0f} ms, "
        f"p95 {tp['p95_ms']:.0f} ms; client CPU {tp['client_cpu_s']:.1f} s) "
        f"| ≥ {THROUGHPUT_TARGET:.0f} req/s, no errors "
        f"| {'yes' if ok_tp else '**no**'} |",
        f"| reference: `/healthz` (one `SELECT 1`, no template), same connections, {ceiling['seconds']:g} s "
        f"| {ceiling['rps']:.0f} req/s (median {ceiling['median_ms']:.0f} ms) "
        f"| the ceiling of gunicorn + Flask + PostgreSQL on this machine | |",
        f"| {jr['learners']} concurrent learners, whole journey | {jr['requests']} requests in "
        f"{jr['elapsed_s']:.1f} s; statuses {dict(sorted(jr['statuses'].items()))}; unexpected: "
        f"{jr['unexpected'] or 'none'}; failed journeys: {len(jr['failures'])}; "
        f"5xx in the server log: {server_5xx} "
        f"| zero errors | {'yes' if ok_jr else '**no**'} |",
        f"| writes checked in the database | {db_check['completions']} reading completions, "
        f"{db_check['responses']} submitted responses, {db_check['attempts']} quiz attempts; problems: "
        f"{len(db_check['problems'])} | one completion and one response per learner, attempts 1 (failed), "
        f"2 (passed) | {'yes' if not db_check['problems'] else '**no**'} |",
        "",
        "Journey steps (median / p95 ms, count):",
        "",
        "| step | median ms | p95 ms | requests |",
        "|---|---:|---:|---:|",
    ]
    for step, (median, p95, count) in jr["steps"].items():
        lines.append(f"| {step} | {median:.0f} | {p95:.0f} | {count} |")
    if jr["failures"] or db_check["problems"]:
        lines += ["", "Failures:", ""] + [f"- {p}" for p in (jr["failures"] + db_check["problems"])[:20]]
    lines += [
        "",
        "Sign-in stays rate limited (Redis): the server runs with `IMH_PROXY_COUNT=1` and each simulated "
        "learner sends its own `X-Forwarded-For`, as distinct browsers behind one proxy would. The "
        "second click on “mark as read” and the re-sent passing quiz form are deliberate duplicates: "
        "both must redirect (302) and write nothing.",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=2000)
    parser.add_argument("--journeys", type=int, default=50)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--journey-limit", type=float, default=300.0, help="seconds allowed for all journeys")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--output", default=str(ROOT / "bench" / "RESULTS.md"))
    args = parser.parse_args()
    if not (1 <= args.journeys <= 500 and 1 <= args.connections <= 200 and 1 <= args.seconds <= 120):
        raise SystemExit("keep it bounded: journeys ≤ 500, connections ≤ 200, seconds ≤ 120")

    from bench.report import load_average, replace_section

    load_before = load_average()
    rng = random.Random()
    check_services()
    env = server_env(args.port)
    print(f"== recreating database {DATABASE}; migrating; loading content; seeding", flush=True)
    recreate_database()
    flask(env, "db", "upgrade")
    flask(env, "imh", "content", "sync")
    print(flask(env, "imh", "bench", "seed", "--learners", str(args.learners)).strip(), flush=True)
    created = flask(env, "imh", "bench", "learners", "--count", str(args.journeys)).split()
    journey_offering, emails = int(created[0]), created[1::2]
    plan = make_plan(journey_offering, args.connections)

    log_path = Path(tempfile.mkdtemp(prefix="imh-load-")) / "serve.log"
    print(f"== starting scripts/serve.sh on {HOST}:{args.port} (log: {log_path})", flush=True)
    server = start_server(env, log_path)
    try:
        wait_healthy(server, args.port)
        print(f"== throughput: {args.connections} connections, {args.seconds:g} s", flush=True)
        tp = throughput(args.port, plan, args.seconds, rng)
        print(f"   {tp['rps']:.0f} req/s, statuses {tp['statuses']}", flush=True)
        ceiling = throughput(args.port, plan, min(args.seconds, 5.0), rng, path="/healthz")
        print(f"   /healthz (reference): {ceiling['rps']:.0f} req/s", flush=True)
        print(f"== journeys: {args.journeys} learners at once", flush=True)
        jr = journeys(args.port, plan, emails, args.journey_limit, rng)
        print(
            f"   {jr['requests']} requests in {jr['elapsed_s']:.1f} s, unexpected {jr['unexpected']}",
            flush=True,
        )
    finally:
        stop_server(server)
    db_check = verify(plan, emails)
    server_5xx = access_log_5xx(log_path)
    body = report(args, load_before, tp, jr, db_check, server_5xx, ceiling)
    replace_section(Path(args.output), "Under make serve", body)
    print(body)
    failed = jr["unexpected"] or jr["failures"] or db_check["problems"] or server_5xx or tp["errors"]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
