"""The browser harness's live server closes every response, even when the browser hangs up.

Chromium cancels sub-resource loads (the favicon) when it navigates to a PDF; the development
server then skipped ``close()`` on the static file's body and the file leaked, which pytest turns
into a failure in whichever test happens to collect it.
"""

from __future__ import annotations

import gc
import socket
import struct
import time
import warnings

from tests.e2e.conftest import LiveServer


def _hang_up_mid_response(url: str, path: str, delay: float) -> None:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    time.sleep(delay)
    # RST instead of FIN, as a browser that abandons a load does
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_static_file_is_closed_when_the_client_hangs_up(app) -> None:  # noqa: ANN001
    server = LiveServer(app)
    server.start()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            for attempt in range(40):
                _hang_up_mid_response(server.url, "/imh-static/favicon.svg", attempt * 0.0005)
            time.sleep(0.5)
            gc.collect()
    finally:
        server.stop()
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == [], f"{len(leaks)} responses left open, e.g. {leaks[0]}"


def test_stop_waits_for_the_requests_still_running(app) -> None:  # noqa: ANN001
    """A request in flight finishes (and hands back its connection) before the test's app is torn down."""
    import threading
    import urllib.request

    finished: list[bool] = []

    @app.get("/_harness/slow")
    def slow() -> str:
        time.sleep(2)  # longer than shutdown()'s 0.5 s poll
        finished.append(True)
        return "done"

    server = LiveServer(app)
    server.start()
    url = server.url + "/_harness/slow"
    client = threading.Thread(target=lambda: urllib.request.urlopen(url).read())  # noqa: S310
    client.start()
    time.sleep(0.1)  # the request is being handled
    server.stop()
    assert finished == [True]
    client.join(timeout=5)
