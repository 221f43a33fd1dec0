"""`make run` serves the demo with the outbox worker beside it, so the demo's email is delivered.

Runs scripts/run.sh (what `make run` calls after building the demo) as a real process on a free
loopback port against a scratch SQLite file, and waits for the demo's certificate notice to land in
the mail folder while the server answers; stopping the script stops its worker too.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).with_name("flask")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp_path: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMH_")}
    env.update(
        FLASK_APP="app:create_app",
        IMH_DATABASE_URL=f"sqlite:///{tmp_path / 'demo.db'}",
        IMH_MAIL_FOLDER=str(tmp_path / "mail"),
        IMH_OUTBOX_POLL_SECONDS="1",
        HOST="127.0.0.1",
        PORT=str(port),
    )
    return env


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for a reaper (a container's PID 1 may never reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not FLASK.exists(), reason="needs the venv's flask script (make venv)")
def test_make_run_delivers_the_demo_email_and_stops_its_worker(tmp_path):
    port = _free_port()
    env = _env(tmp_path, port)
    for args in (
        ["db", "upgrade"],
        ["imh", "content", "sync"],
        ["imh", "demo", "--base-url", f"http://127.0.0.1:{port}"],
    ):
        done = subprocess.run(
            [str(FLASK), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
        )
        assert done.returncode == 0, done.stderr[-2000:]
    assert not (tmp_path / "mail").exists()  # the demo only queues; delivering is the worker's job

    proc = subprocess.Popen(
        ["bash", "scripts/run.sh"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        served = delivered = False
        while time.monotonic() < deadline and not (served and delivered):
            time.sleep(0.5)
            assert proc.poll() is None, proc.stderr.read().decode(errors="replace")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    served = r.status == 200
            except OSError:
                pass
            files = list((tmp_path / "mail").glob("*.eml"))
            delivered = bool(files) and any("graduate@example.org" in f.read_text() for f in files)
        assert served, "the development server did not answer"
        assert delivered, "the demo's certificate notice was not delivered to the mail folder"
        workers = _children(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        proc.stderr.close()
    time.sleep(0.5)
    left = [pid for pid in workers if _alive(pid)]
    assert workers and not left, f"run.sh left processes behind: {left}"
