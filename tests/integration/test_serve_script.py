"""`scripts/serve.sh` (production serving, and `make load`) stops gunicorn and the outbox worker
together on a TERM from a process supervisor.

It used to run gunicorn in the foreground: bash held the TERM until gunicorn ended, and a
supervisor that then killed the script left gunicorn orphaned on its port.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .test_make_run import _alive, _children, _free_port

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in _children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


@pytest.mark.skipif(not GUNICORN.exists(), reason="needs the venv's gunicorn (make venv)")
def test_a_term_stops_gunicorn_and_the_outbox_worker(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMH_")}
    env.update(
        IMH_SECRET_KEY="serve-script-test-" + "k" * 40,
        IMH_BASE_URL=f"http://127.0.0.1:{port}",
        IMH_BIND=f"127.0.0.1:{port}",
        IMH_WORKERS="2",
        IMH_DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}",
        IMH_MAIL_FOLDER=str(tmp_path / "mail"),
    )
    proc = subprocess.Popen(
        ["bash", "scripts/serve.sh"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline, served = time.monotonic() + 90, False
        while time.monotonic() < deadline and not served:
            time.sleep(0.5)
            assert proc.poll() is None, proc.stderr.read().decode(errors="replace")[-3000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    served = r.status == 200
            except OSError:
                pass
        assert served, "gunicorn did not answer /healthz"
        running = _descendants(proc.pid)
        assert len(running) >= 3, running  # the worker, the gunicorn master and its workers
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        proc.stderr.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(pid) for pid in running):
        time.sleep(0.2)
    assert not [pid for pid in running if _alive(pid)], "serve.sh left processes behind"
