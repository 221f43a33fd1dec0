"""The load itself: dashboard throughput over keep-alive connections, then concurrent learner
journeys (sign in → dashboard → reading → exercise → quiz twice → dashboard), each from its own
thread. Every loop is bounded in requests and in seconds.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
import urllib.parse
from collections import Counter

from bench.load_client import REQUEST_TIMEOUT, Client, HTTPFailure, post_form, sign_in
from bench.load_data import Plan


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
