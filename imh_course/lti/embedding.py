"""Embedding in the LMS iframe, for the LTI routes only; every other route keeps today's headers.

* ``frame-ancestors`` on an LTI route lists the registered, enabled platforms' origins (the
  explicit frame origins plus the origins of the issuer and the auth URL) and no
  ``X-Frame-Options`` is sent (it cannot name origins); everywhere else it stays ``'none'``/DENY.
* Cookies set by an LTI route (the session after a launch, the login state) are
  ``SameSite=None; Secure``: the platform's form_post is a cross-site POST, and a Lax cookie set
  inside a cross-site iframe is refused by browsers. Other routes keep the configured ``Lax``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, g, request
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select

from ..extensions import db
from ..models.lti import LtiPlatform
from ..security.hooks import FRAME_ANCESTORS

#: endpoints shown inside the LMS iframe or reached by the platform's cross-site requests
EMBEDDED_ENDPOINTS = frozenset({"imh.lti_login", "imh.lti_launch", "imh.lti_deep_link"})


def is_embedded_request() -> bool:
    return request.endpoint in EMBEDDED_ENDPOINTS


def origin(url: str | None) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, else None."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.netloc.lower()}"


def platform_origins(platform: LtiPlatform) -> set[str]:
    found = {origin(u) for u in (platform.issuer, platform.auth_url, *platform.frame_origins.split())}
    return {o for o in found if o}


def frame_ancestors() -> str:
    """The CSP source list: this site and every enabled platform's origins."""
    origins: set[str] = set()
    for platform in db.session.scalars(select(LtiPlatform).where(LtiPlatform.is_enabled.is_(True))):
        origins |= platform_origins(platform)
    return " ".join(["'self'", *sorted(origins)])


def allow_framing() -> None:
    """Mark this response as embeddable by the registered platforms (called by the LTI views)."""
    setattr(g, FRAME_ANCESTORS, frame_ancestors())


class EmbeddableSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with ``SameSite=None; Secure`` on the LTI routes only."""

    def get_cookie_samesite(self, app: Flask) -> str | None:
        return "None" if is_embedded_request() else super().get_cookie_samesite(app)

    def get_cookie_secure(self, app: Flask) -> bool:
        return True if is_embedded_request() else super().get_cookie_secure(app)


def register(app: Flask) -> None:
    if type(app.session_interface) is SecureCookieSessionInterface:  # a host's own choice is kept
        app.session_interface = EmbeddableSessionInterface()
