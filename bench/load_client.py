"""The load test's HTTP client: one keep-alive connection and cookie jar per simulated browser.

Standard library only; every request goes to :data:`HOST`. Each client sends its own
``X-Forwarded-For`` address (the server trusts one proxy), so the sign-in rate limit sees distinct
browsers. Requests are never retried: a POST must not be sent twice.
"""

from __future__ import annotations

import html.parser
import http.client
import time
import urllib.parse
from dataclasses import dataclass, field

HOST = "127.0.0.1"  # never anything else
PASSWORD = "bench-password-2026"  # noqa: S105 - the bench accounts' published password
REQUEST_TIMEOUT = 60.0


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
