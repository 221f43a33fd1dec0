"""A launch inside an LMS iframe in real Chromium: the LMS page on another site frames the tool.

The "LMS" is a tiny HTTP server on http://localhost (another site than the tool's 127.0.0.1): its
course page frames the tool's login URL; its auth endpoint mints the id_token (PyJWT, a key made
here) and form-posts it back, as Moodle and Canvas do. The tool's page must render in the frame
(frame-ancestors names the LMS) with the state cookie surviving the cross-site round trip.
"""

from __future__ import annotations

import html
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from playwright.sync_api import expect

from tests.integration.lti_helpers import Platform


class FakeLms:
    def __init__(self, host: str) -> None:
        self.platform: Platform | None = None
        self.tool = ""
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _page(self, body: str) -> None:
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                lms = outer.platform
                if url.path == "/course":
                    query = urlencode({"iss": lms.issuer, "login_hint": "u1", "client_id": lms.client_id,
                                       "target_link_uri": outer.tool + "/lti/launch"})  # fmt: skip
                    src = html.escape(f"{outer.tool}/lti/login?{query}")
                    frame = f'<iframe title="IMH course" src="{src}" width="800" height="600"></iframe>'
                    self._page(f"<!doctype html><title>LMS course</title><h1>LMS course</h1>{frame}")
                elif url.path == "/auth":
                    sent = {k: v[0] for k, v in parse_qs(url.query).items()}
                    token = lms.id_token(lms.claims(sent["nonce"]))
                    self._page(
                        f'<!doctype html><form method="post" action="{html.escape(sent["redirect_uri"])}">'
                        f'<input type="hidden" name="id_token" value="{token}">'
                        f'<input type="hidden" name="state" value="{html.escape(sent["state"])}"></form>'
                        "<script>document.forms[0].submit()</script>"
                    )
                else:
                    self.send_error(404)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.origin = f"http://{host}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


def _lms(live_server, host: str) -> FakeLms:  # noqa: ANN001
    from imh_course.extensions import db
    from imh_course.models import LtiPlatform

    lms = FakeLms(host)
    lms.tool = live_server.url
    lms.platform = Platform(issuer=lms.origin)
    lms.platform.register()
    db.session.get(LtiPlatform, lms.platform.platform_id).auth_url = lms.origin + "/auth"
    db.session.commit()
    lms.thread.start()
    return lms


def test_a_launch_renders_inside_the_lms_frame(page, live_server, demo):  # noqa: ARG001
    """Framed by a registered LMS (same site: cookies allowed): the launch shows in the frame."""
    lms = _lms(live_server, "127.0.0.1")
    try:
        page.goto(lms.origin + "/course")
        frame = page.frame_locator("iframe[title='IMH course']")
        expect(frame.get_by_text("You are signed in as")).to_be_visible(timeout=15000)
        expect(frame.get_by_text("Pat Learner")).to_be_visible()
        expect(frame.get_by_text("This link in your LMS is not connected")).to_be_visible()
    finally:
        lms.server.shutdown()
        lms.server.server_close()


def test_where_the_browser_blocks_frame_cookies_a_new_window_launches(page, live_server, demo):  # noqa: ARG001
    """LMS on another site: Chromium drops the frame's cookies; the refusal says why; a new window works."""
    lms = _lms(live_server, "localhost")
    try:
        page.goto(lms.origin + "/course")
        frame = page.frame_locator("iframe[title='IMH course']")
        expect(frame.get_by_text("did not send back the login cookie")).to_be_visible(timeout=15000)
        with page.expect_popup() as opened:
            frame.get_by_role("link", name="Open the course in a new window").click()
        window = opened.value
        expect(window.get_by_text("You are signed in as")).to_be_visible(timeout=15000)
        expect(window.get_by_text("Pat Learner")).to_be_visible()
    finally:
        lms.server.shutdown()
        lms.server.server_close()
