"""Browser harness: a live server on 127.0.0.1 (random port) and Debian's Chromium via Playwright.

Playwright never downloads a browser here: it drives /usr/bin/chromium through executable_path.
Where Chromium is absent the browser tests skip with a clear reason.
"""

from __future__ import annotations

import os
import shutil
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("IMH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BLOCKING_IMPACTS = {"serious", "critical"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    if not Path(CHROMIUM).exists():
        reason = f"Chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium`"
        if os.environ.get("IMH_REQUIRE_BROWSER"):
            pytest.fail(reason)  # CI must not skip the browser tests
        pytest.skip(reason)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "locale": "en-US", "timezone_id": "America/New_York"}


def _always_closed(app: Flask):  # noqa: ANN202
    """Close every response body, even when the client hangs up.

    Werkzeug's development server skips ``close()`` when reading the rest of a dropped
    connection raises, so a static file Chromium stopped loading leaked and pytest failed a
    random later test on the ResourceWarning. Wrapping the body in a generator closes it at the
    latest when the generator is finalised.
    """

    def wsgi(environ, start_response):  # noqa: ANN001, ANN202
        body = app(environ, start_response)

        def chunks():  # noqa: ANN202
            try:
                yield from body
            finally:
                if hasattr(body, "close"):
                    body.close()

        return chunks()

    return wsgi


class LiveServer:
    def __init__(self, app: Flask) -> None:
        self._server = make_server("127.0.0.1", 0, _always_closed(app), threaded=True)
        # Track the request threads so stop() can wait for them: a request still running when the
        # test's app disposes its engine hands its connection back to a pool nobody closes, and
        # psycopg then warns (ResourceWarning) in whichever later test collects it.
        self._server.daemon_threads = False
        self._server.block_on_close = True  # only so the threads are tracked; stop() joins them itself
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        # A browser's idle pre-connected socket can keep a handler waiting: wait a bounded time.
        threads = self._server._threads
        for thread in list(threads) if isinstance(threads, list) else []:
            thread.join(timeout=5)
        socketserver.TCPServer.server_close(self._server)  # the socket only: the joins above are bounded


@pytest.fixture
def app_config() -> dict[str, object]:
    """Browser tests use real CSRF tokens, like a person's browser."""
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    server = LiveServer(app)
    server.start()
    yield server
    server.stop()


def assert_accessible(page) -> None:  # noqa: ANN001
    """Fail on any serious or critical axe-core violation on the current page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(n["target"][0] for n in v["nodes"][:3])
        for v in results.response["violations"]
        if v.get("impact") in BLOCKING_IMPACTS
    ]
    assert problems == [], f"accessibility violations on {page.url}:\n" + "\n".join(problems)


def sign_in(page, base_url: str, email: str, password: str) -> None:  # noqa: ANN001
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
