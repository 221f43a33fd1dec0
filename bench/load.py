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
import html.parser
import http.client
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"  # never anything else
DATABASE = "imh_bench_load"  # the only database this script creates or drops
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DATABASE}"
REDIS_URI = "redis://127.0.0.1:6379"
PASSWORD = "bench-password-2026"  # noqa: S105 - the bench accounts' published password
REQUEST_TIMEOUT = 60.0
THROUGHPUT_TARGET = 200.0  # dashboard requests per second (issue 9)


# --- HTTP client: one keep-alive connection and cookie jar per simulated browser ---------------
class HTTPFailure(Exception):
    pass


@dataclass
class Client:
    port: int
    address: str  # the client address the server sees (X-Forwarded-For)
    cookies: dict[str, str] = field(default_factory=dict)
    log: list[tuple[str, int, float]] = field(default_factory=list)  # (step, status, ms)
    _conn: http.client.HTTPConnection | None = None
    _last: float = 0.0

    def request(self, step: str, method: str, path: str, form: list[tuple[str, str]] | None = None):  # noqa: ANN201
        """One request; returns (status, headers, body). Never retried: a POST must not be sent twice."""
        # gunicorn closes idle keep-alive connections after 2 s: reconnect before that can happen
        if self._conn is None or time.monotonic() - self._last > 1.5:
            self.close()
            self._conn = http.client.HTTPConnection(HOST, self.port, timeout=REQUEST_TIMEOUT)
        headers = {"X-Forwarded-For": self.address, "Connection": "keep-alive"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            self._conn.request(method, path, body=body, headers=headers)
            response = self._conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            self.log.append((step, 0, (time.perf_counter() - started) * 1000))
            raise HTTPFailure(f"{step}: {type(exc).__name__}: {exc}") from exc
        self._last = time.monotonic()
        self.log.append((step, response.status, (time.perf_counter() - started) * 1000))
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                cookie_value = rest.split(";", 1)[0]
                if cookie_value and "max-age=0" not in value.lower():
                    self.cookies[name.strip()] = cookie_value
                else:
                    self.cookies.pop(name.strip(), None)
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        return response.status, response, data

    def expect(self, step: str, method: str, path: str, status: int, form=None) -> tuple[object, bytes]:  # noqa: ANN001
        code, response, data = self.request(step, method, path, form)
        if code != status:
            raise HTTPFailure(f"{step}: {method} {path} returned {code}, expected {status}")
        return response, data

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class _Forms(html.parser.HTMLParser):
    """Every <form>: its action, method and the name/value of its inputs (hidden ones included)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "method": (a.get("method") or "get").lower(),
                               "inputs": {}})  # fmt: skip
        elif tag in ("input", "textarea", "button") and self.forms and a.get("name"):
            self.forms[-1]["inputs"].setdefault(a["name"], a.get("value") or "")


def forms_of(page: bytes) -> list[dict]:
    parser = _Forms()
    parser.feed(page.decode("utf-8", "replace"))
    return parser.forms


def post_form(page: bytes, action_contains: str = "", *, field: str = "csrf_token") -> dict:
    """The page's first POST form whose action contains ``action_contains`` and that has ``field``
    (and a CSRF token) — the layout's sign-out form comes first on every page."""
    for form in forms_of(page):
        inputs = form["inputs"]
        if (
            form["method"] == "post"
            and action_contains in form["action"]
            and {"csrf_token", field} <= set(inputs)
        ):
            return form
    raise HTTPFailure(f"no POST form with a CSRF token and {field!r} {action_contains}".rstrip())


def sign_in(client: Client, email: str) -> str:
    """GET /login, POST the form with its CSRF token; returns where the app sent the learner."""
    _response, page = client.expect("sign-in page", "GET", "/login", 200)
    form = post_form(page, "/login")
    fields = [("csrf_token", form["inputs"]["csrf_token"]), ("email", email), ("password", PASSWORD),
              ("next", "")]  # fmt: skip
    response, _ = client.expect("sign in", "POST", "/login", 302, fields)
    return urllib.parse.urlsplit(response.getheader("Location", "")).path


# --- the server ---------------------------------------------------------------------------------
def server_env(port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        IMH_ENV="production",
        IMH_SECRET_KEY=secrets.token_urlsafe(48),
        IMH_BASE_URL=f"http://{HOST}:{port}",
        IMH_DATABASE_URL=DATABASE_URL,
        IMH_RATELIMIT_STORAGE_URI=REDIS_URI,
        IMH_PROXY_COUNT="1",
        IMH_BIND=f"{HOST}:{port}",
        IMH_WORKERS="2",
        IMH_THREADS="4",
        FLASK_APP="app:create_app",
    )
    return env


def check_services() -> None:
    with socket.create_connection((HOST, 6379), timeout=5) as redis:
        redis.sendall(b"PING\r\n")
        if not redis.recv(16).startswith(b"+PONG"):
            raise SystemExit("Redis on 127.0.0.1:6379 did not answer PING")
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover
        raise SystemExit("psycopg is needed (pip install -r requirements.txt)") from exc
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute("SELECT 1")


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")


def flask(env: dict[str, str], *args: str, timeout: float = 900) -> str:
    result = subprocess.run(  # noqa: S603 - fixed argv, our own virtualenv
        [str(ROOT / ".venv" / "bin" / "flask"), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def start_server(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    log = log_path.open("w")
    return subprocess.Popen(  # noqa: S603 - our own script
        ["bash", str(ROOT / "scripts" / "serve.sh")],  # noqa: S607
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def wait_healthy(server: subprocess.Popen, port: int, deadline_s: float = 120) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}; see its log")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"/healthz did not answer 200 within {deadline_s:.0f} s")


def stop_server(server: subprocess.Popen) -> None:
    """SIGTERM to the server we started (serve.sh execs gunicorn: same pid), then wait."""
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)


# --- the data the journeys need -----------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    offering_id: int
    session_number: int
    reading_key: str
    exercise_key: str
    quiz_key: str
    right: list[tuple[str, str]]
    wrong: list[tuple[str, str]]
    throughput_emails: list[str]
    throughput_offering: int


def make_plan(journey_offering: int, connections: int) -> Plan:
    from sqlalchemy import func, select

    from app import create_app
    from imh_course.extensions import db
    from imh_course.models import CourseSession, Enrolment, Exercise, Quiz, Reading, User

    app = create_app({"IMH_ENV": "testing", "SQLALCHEMY_DATABASE_URI": DATABASE_URL})
    with app.app_context():
        session = db.session.scalar(select(CourseSession).order_by(CourseSession.number).limit(1))

        def first(model):  # noqa: ANN001, ANN202
            return db.session.scalar(
                select(model)
                .where(
                    model.session_id == session.id, model.is_current.is_(True), model.is_published.is_(True)
                )
                .order_by(model.id)
                .limit(1)
            )

        reading, exercise, quiz = first(Reading), first(Exercise), first(Quiz)
        right: list[tuple[str, str]] = []
        wrong: list[tuple[str, str]] = []
        for question in quiz.questions:
            correct = [o["id"] for o in question.options if o["correct"]]
            incorrect = [o["id"] for o in question.options if not o["correct"]]
            for option in correct if question.kind == "multiple" else correct[:1]:
                right.append((f"q_{question.key}", option))
            wrong.append((f"q_{question.key}", incorrect[0]))
        # throughput: learners of a 200-learner offering, each with a term of activity
        sized = (
            select(Enrolment.offering_id)
            .group_by(Enrolment.offering_id)
            .having(func.count() == 200)
            .order_by(Enrolment.offering_id)
            .limit(1)
        )
        offering = db.session.scalar(sized)
        emails = db.session.scalars(
            select(User.email)
            .join(Enrolment, Enrolment.user_id == User.id)
            .where(Enrolment.offering_id == offering, User.email.like("bench-learner-%"))
            .order_by(User.id)
            .limit(connections)
        ).all()
        return Plan(journey_offering, session.number, reading.key, exercise.key, quiz.key, right, wrong,
                    list(emails), offering)  # fmt: skip


# --- phase 1: dashboard throughput --------------------------------------------------------------
def throughput(port: int, plan: Plan, seconds: float, rng: random.Random, *, path: str | None = None) -> dict:
    """Signed-in clients request ``path`` (default: their dashboard) back to back for ``seconds``."""
    path = path or f"/learn/offerings/{plan.throughput_offering}"
    clients = [
        Client(port, f"10.{rng.randrange(64, 128)}.{i // 250}.{i % 250 + 1}")
        for i in range(len(plan.throughput_emails))
    ]
    for client, email in zip(clients, plan.throughput_emails, strict=True):
        sign_in(client, email)
        client.log.clear()
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(len(clients) + 1)
    window: dict[str, float] = {}
    max_requests = int(seconds * 2000)  # far above what 2 cores can serve: the clock ends the loop

    def run(client: Client) -> None:
        start.wait()
        begin, done, local = window["begin"], 0, Counter()
        warm_until, stop_at = begin + 2.0, begin + 2.0 + seconds
        mine: list[float] = []
        while done < max_requests:
            now = time.monotonic()
            if now >= stop_at:
                break
            try:
                code, _response, _ = client.request("throughput", "GET", path)
            except HTTPFailure:
                code = 0
            if now >= warm_until:
                local[code] += 1
                mine.append(client.log[-1][2])
                done += 1
        with lock:
            statuses.update(local)
            latencies.extend(mine)
        client.close()

    threads = [threading.Thread(target=run, args=(c,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    window["begin"] = time.monotonic()
    cpu_before = time.process_time()
    start.wait()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    total = sum(statuses.values())
    ordered = sorted(latencies)
    return {
        "connections": len(clients),
        "seconds": seconds,
        "requests": total,
        "rps": total / seconds,
        "ok": statuses.get(200, 0),
        "errors": total - statuses.get(200, 0),
        "statuses": dict(statuses),
        "median_ms": statistics.median(ordered) if ordered else float("nan"),
        "p95_ms": ordered[int(0.95 * (len(ordered) - 1))] if ordered else float("nan"),
        "client_cpu_s": time.process_time() - cpu_before,
    }


# --- phase 2: journeys --------------------------------------------------------------------------
EXPECTED = {"re-send passing answers": {302}, "mark reading read again": {302}}


def journey(client: Client, email: str, plan: Plan, deadline: float) -> None:
    """One learner's visit, as a browser would make it (redirects followed by hand)."""
    base = f"/learn/offerings/{plan.offering_id}"

    def check_time() -> None:
        if time.monotonic() > deadline:
            raise HTTPFailure("journey deadline passed")

    home = sign_in(client, email)  # /learn: one enrolment, so it redirects to the dashboard
    response, _ = client.expect("learner home", "GET", home, 302)
    dashboard = urllib.parse.urlsplit(response.getheader("Location", "")).path
    if dashboard != base:
        raise HTTPFailure(f"signed in, sent to {dashboard} instead of {base}")
    client.expect("dashboard", "GET", dashboard, 200)
    check_time()
    _, page = client.expect("session page", "GET", f"{base}/sessions/{plan.session_number}", 200)
    form = post_form(page, f"/readings/{plan.reading_key}/complete")
    token = [("csrf_token", form["inputs"]["csrf_token"])]
    response, _ = client.expect("mark reading read", "POST", form["action"], 302, token)
    client.expect("session page", "GET", urllib.parse.urlsplit(response.getheader("Location")).path, 200)
    client.expect("mark reading read again", "POST", form["action"], 302, token)  # a double click
    check_time()
    exercise = f"{base}/exercises/{plan.exercise_key}"
    _, page = client.expect("exercise page", "GET", exercise, 200)
    form = post_form(page, field="body")
    body = f"A response from {email}: serve and return, noticing the baby's cues. " * 3
    fields = [("csrf_token", form["inputs"]["csrf_token"]), ("body", body), ("submit_response", "Submit")]
    response, _ = client.expect("submit exercise", "POST", exercise, 302, fields)
    client.expect("exercise page", "GET", urllib.parse.urlsplit(response.getheader("Location")).path, 200)
    check_time()
    quiz = f"{base}/quizzes/{plan.quiz_key}"
    passing: list[tuple[str, str]] = []
    for step, answers in (("submit failing quiz", plan.wrong), ("submit passing quiz", plan.right)):
        _, page = client.expect("quiz page", "GET", quiz, 200)
        form = post_form(page, field="attempt_no")
        hidden = [(name, form["inputs"][name]) for name in ("csrf_token", "attempt_no", "quiz_version")]
        response, _ = client.expect(step, "POST", quiz, 302, hidden + answers)
        client.expect(
            "attempt result", "GET", urllib.parse.urlsplit(response.getheader("Location")).path, 200
        )
        passing = hidden + answers
        check_time()
    client.expect("re-send passing answers", "POST", quiz, 302, passing)  # same attempt number again
    client.expect("dashboard", "GET", base, 200)


def journeys(port: int, plan: Plan, emails: list[str], limit_s: float, rng: random.Random) -> dict:
    clients = [
        Client(port, f"10.{rng.randrange(128, 192)}.{i // 250}.{i % 250 + 1}") for i in range(len(emails))
    ]
    failures: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(len(clients) + 1)
    deadline_box: dict[str, float] = {}

    def run(client: Client, email: str) -> None:
        start.wait()
        try:
            journey(client, email, plan, deadline_box["deadline"])
        except Exception as exc:  # noqa: BLE001 - every failure is reported, none stops the others
            with lock:
                failures.append(f"{email}: {exc}")
        finally:
            client.close()

    threads = [
        threading.Thread(target=run, args=(c, e), daemon=True) for c, e in zip(clients, emails, strict=True)
    ]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    deadline_box["deadline"] = began + limit_s
    start.wait()
    for thread in threads:
        thread.join(timeout=max(1.0, began + limit_s + REQUEST_TIMEOUT - time.monotonic()))
    elapsed = time.monotonic() - began
    steps: dict[str, list[float]] = {}
    statuses: Counter[int] = Counter()
    unexpected: Counter[str] = Counter()
    for client in clients:
        for step, status, ms in client.log:
            steps.setdefault(step, []).append(ms)
            statuses[status] += 1
            if status == 0 or status >= 500 or (status >= 400 and status not in EXPECTED.get(step, ())):
                unexpected[f"{step} → {status}"] += 1
    return {
        "learners": len(emails),
        "elapsed_s": elapsed,
        "requests": sum(statuses.values()),
        "statuses": dict(statuses),
        "unexpected": dict(unexpected),
        "failures": failures,
        "steps": {
            k: (statistics.median(v), sorted(v)[int(0.95 * (len(v) - 1))], len(v)) for k, v in steps.items()
        },
    }


# --- phase 3: what the database says ------------------------------------------------------------
def verify(plan: Plan, emails: list[str]) -> dict:
    from sqlalchemy import func, select

    from app import create_app
    from imh_course.extensions import db
    from imh_course.models import ExerciseResponse, QuizAttempt, ReadingCompletion, User
    from imh_course.models.progress import ResponseStatus

    app = create_app({"IMH_ENV": "testing", "SQLALCHEMY_DATABASE_URI": DATABASE_URL})
    problems: list[str] = []
    with app.app_context():
        ids = dict(db.session.execute(select(User.email, User.id).where(User.email.in_(emails))).all())
        users = set(ids.values())
        completions = dict(
            db.session.execute(
                select(ReadingCompletion.user_id, func.count())
                .where(
                    ReadingCompletion.offering_id == plan.offering_id, ReadingCompletion.user_id.in_(users)
                )
                .group_by(ReadingCompletion.user_id)
            ).all()
        )
        responses = dict(
            db.session.execute(
                select(ExerciseResponse.user_id, func.count())
                .where(
                    ExerciseResponse.offering_id == plan.offering_id,
                    ExerciseResponse.user_id.in_(users),
                    ExerciseResponse.exercise_key == plan.exercise_key,
                    ExerciseResponse.status == ResponseStatus.SUBMITTED,
                )
                .group_by(ExerciseResponse.user_id)
            ).all()
        )
        attempts: dict[int, list[tuple[int, bool]]] = {}
        for user_id, number, passed in db.session.execute(
            select(QuizAttempt.user_id, QuizAttempt.attempt_no, QuizAttempt.passed)
            .where(QuizAttempt.offering_id == plan.offering_id, QuizAttempt.user_id.in_(users))
            .order_by(QuizAttempt.user_id, QuizAttempt.attempt_no)
        ):
            attempts.setdefault(user_id, []).append((number, passed))
        for email in emails:
            user = ids.get(email)
            if completions.get(user, 0) != 1:
                problems.append(f"{email}: {completions.get(user, 0)} reading completions (expected 1)")
            if responses.get(user, 0) != 1:
                problems.append(f"{email}: {responses.get(user, 0)} submitted responses (expected 1)")
            if attempts.get(user, []) != [(1, False), (2, True)]:
                problems.append(
                    f"{email}: attempts {attempts.get(user, [])} (expected [(1, False), (2, True)])"
                )
    return {
        "completions": sum(completions.values()),
        "responses": sum(responses.values()),
        "attempts": sum(len(v) for v in attempts.values()),
        "problems": problems,
    }


def access_log_5xx(log_path: Path) -> int:
    count = 0
    for line in log_path.read_text(errors="replace").splitlines():
        parts = line.split('"')
        if len(parts) >= 3 and parts[2].strip()[:1] == "5":
            count += 1
    return count


# --- report -------------------------------------------------------------------------------------
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
