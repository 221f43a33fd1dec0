"""A real Learning Record Store for the tests: Ralph (``ralph runserver``, fs backend) on loopback.

Ralph lives in its own virtual environment, ``.venv-ralph/`` (``make ralph``; ``make test``
builds it), because its pins conflict with the application's. Without it the xAPI delivery tests
are skipped with the reason, unless ``IMH_REQUIRE_LRS`` is set (CI): then they fail.
``IMH_RALPH`` names another ``ralph`` executable.

Basic-auth credentials come from an auth file written by ``ralph auth … -w`` (RALPH_AUTH_FILE);
statements are kept as JSON lines under the server's data folder, which survives a restart.
One fix is loaded into Ralph's interpreter (``ralph_shim/sitecustomize.py``): its fs LRS backend
stores only the first write after start-up.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
RALPH_VENV = REPO_ROOT / ".venv-ralph"
LRS_KEY = "imh-lrs-key"
LRS_SECRET = "imh-lrs-secret-9"  # noqa: S105 - a test LRS's password


def ralph_executable() -> Path:
    """The ``ralph`` command, or skip (fail when IMH_REQUIRE_LRS is set) with what to do."""
    named = os.environ.get("IMH_RALPH")
    path = Path(named) if named else RALPH_VENV / "bin" / "ralph"
    ready = path.exists() and (named or (RALPH_VENV / ".installed").exists())
    if not ready:
        reason = f"Ralph LRS not installed at {path}: run `make ralph` (make test does)"
        if os.environ.get("IMH_REQUIRE_LRS"):
            pytest.fail(reason + " — IMH_REQUIRE_LRS is set", pytrace=False)
        pytest.skip(reason)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(auth_file: Path) -> dict[str, str]:
    return {
        **os.environ,
        "RALPH_RUNSERVER_BACKEND": "fs",
        "RALPH_AUTH_FILE": str(auth_file),
        "RALPH_APP_DIR": str(auth_file.parent / "app"),
        "RALPH_RUNSERVER_MAX_SEARCH_HITS_COUNT": "1000",
        # Ralph 5.1.0's fs LRS stores only its first write: see ralph_shim/sitecustomize.py
        "PYTHONPATH": str(Path(__file__).resolve().parent / "ralph_shim"),
    }


def write_auth_file(ralph: Path, folder: Path) -> Path:
    """Credentials for LRS_KEY/LRS_SECRET with every scope, the way Ralph's docs make them."""
    auth_file = folder / "auth.json"
    command = [
        str(ralph),
        "auth",
        "-u",
        LRS_KEY,
        "-p",
        LRS_SECRET,
        "-s",
        "all",
        "-M",
        "mailto:lrs@example.org",
        "-w",
    ]
    subprocess.run(command, env=_env(auth_file), cwd=folder, check=True, capture_output=True, timeout=120)  # noqa: S603
    return auth_file


class RalphServer:
    """One LRS: start, stop (the whole process group) and start again on the same port and data."""

    def __init__(self, ralph: Path, auth_file: Path, folder: Path) -> None:
        self.ralph = ralph
        self.auth_file = auth_file
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/xAPI/"

    def start(self, timeout: float = 60) -> None:
        command = [
            str(self.ralph), "runserver", "-b", "fs", "-h", "127.0.0.1", "-p", str(self.port),
            "--fs-default-directory-path", str(self.data),
        ]  # fmt: skip
        log = (self.folder / "server.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603
            command, env=_env(self.auth_file), cwd=self.folder, stdout=log, stderr=log, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"ralph exited: {(self.folder / 'server.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/__heartbeat__", timeout=1) as r:  # noqa: S310
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"ralph did not answer within {timeout} s")

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)
        self.process = None
        deadline = time.monotonic() + 15  # the reloader's worker may outlive its parent a moment
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) != 0:
                    return
            time.sleep(0.1)

    def clear(self) -> None:
        """Forget every statement (the fs backend reads its file afresh for each query)."""
        for path in self.data.glob("*"):
            path.unlink()

    def statements(self) -> list[dict[str, Any]]:
        """Every statement the LRS returns to a GET, following its ``more`` links."""
        token = base64.b64encode(f"{LRS_KEY}:{LRS_SECRET}".encode()).decode()
        url = f"http://127.0.0.1:{self.port}/xAPI/statements?" + urllib.parse.urlencode({"limit": 1000})
        found: list[dict[str, Any]] = []
        while url:
            request = urllib.request.Request(  # noqa: S310
                url, headers={"Authorization": f"Basic {token}", "X-Experience-API-Version": "1.0.3"}
            )
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                page = json.load(response)
            found.extend(page["statements"])
            more = page.get("more")
            url = f"http://127.0.0.1:{self.port}{more}" if more else ""
        return found

    def stored_lines(self) -> int:
        """Statements written to the backend's file: a duplicate would be a second line."""
        return sum(
            1 for path in self.data.glob("*") for line in path.read_text().splitlines() if line.strip()
        )
