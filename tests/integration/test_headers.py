"""Security headers on every response and no caching of personal pages or exports (ASVS 14.4, 8.2.1)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from imh_course.security.hooks import CSP

TEMPLATES = Path(__file__).resolve().parents[2] / "imh_course" / "templates"


def _directives(policy: str) -> dict[str, list[str]]:
    parts = (p.strip().split() for p in policy.split(";") if p.strip())
    return {p[0]: p[1:] for p in parts}


def test_content_security_policy_allows_no_inline_script():
    """Scripts and styles come only from this site: no inline script, no eval, no plugins, no framing."""
    policy = _directives(CSP)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"] and policy["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in CSP and "'unsafe-eval'" not in CSP


@pytest.mark.parametrize("path", ["/", "/login", "/account/forgot", "/no-such-page"])
def test_every_response_carries_the_security_headers(client, path):
    """Pages, forms and error pages all carry CSP, nosniff, referrer policy and anti-framing headers."""
    response = client.get(path)
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_hsts_only_over_https(client):
    """Strict-Transport-Security is sent on HTTPS responses and never on plain HTTP."""
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_public_pages_may_be_cached(client):
    """The public course page is not marked no-store (nothing personal on it)."""
    assert client.get("/").headers.get("Cache-Control") != "no-store"


def test_personal_pages_and_exports_are_never_cached(client, demo, login):
    """Signed-in pages and downloads (calendar, training log) carry Cache-Control: no-store."""
    login("lcsw@example.org")
    offering = demo.offering_id
    for path in [
        "/learn",
        f"/learn/offerings/{offering}",
        f"/learn/offerings/{offering}/transcript",
        "/learn/profile",
        "/account/password",
        f"/learn/offerings/{offering}/calendar.ics",
        f"/learn/offerings/{offering}/training-log.csv",
    ]:
        response = client.get(path)
        assert response.status_code in (200, 302), path
        assert response.headers["Cache-Control"] == "no-store", path


def test_staff_exports_are_never_cached(client, demo, login):
    """Coordinator pages carry no-store too."""
    login("coordinator@example.org")
    response = client.get(f"/staff/offerings/{demo.offering_id}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_templates_contain_no_inline_script_or_handlers():
    """No template uses inline script, on* handlers, javascript: URLs or style attributes (CSP blocks)."""
    problems = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        text = template.read_text("utf-8")
        for match in re.finditer(r"<script\b[^>]*>", text, re.IGNORECASE):
            if "src=" not in match.group(0):
                problems.append(f"{template.name}: inline <script>")
        if re.search(r"\son[a-z]+\s*=", text, re.IGNORECASE):
            problems.append(f"{template.name}: event-handler attribute")
        if re.search(r"javascript:", text, re.IGNORECASE):
            problems.append(f"{template.name}: javascript: URL")
        if re.search(r"\sstyle\s*=", text, re.IGNORECASE):
            problems.append(f"{template.name}: style attribute")
    assert problems == []
