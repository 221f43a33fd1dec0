"""The server under test and what it needs: ``scripts/serve.sh`` on loopback, PostgreSQL, Redis.

Only the database :data:`DATABASE` is ever dropped or created; the server started here is stopped
here, by its process id; ``flask`` runs from this checkout's virtualenv.
"""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path

from bench.load_client import HOST

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "imh_bench_load"  # the only database this script creates or drops
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DATABASE}"
REDIS_URI = "redis://127.0.0.1:6379"


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
    """SIGTERM to serve.sh (it stops gunicorn and the outbox worker), then wait; kill its group if stuck."""
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)  # started with start_new_session: its own group
        server.wait(timeout=10)


def access_log_5xx(log_path: Path) -> int:
    count = 0
    for line in log_path.read_text(errors="replace").splitlines():
        parts = line.split('"')
        if len(parts) >= 3 and parts[2].strip()[:1] == "5":
            count += 1
    return count
