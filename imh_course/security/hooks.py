"""Security hooks: response headers, refusal and CSRF logging, the page shown during a database outage.

Headers (ASVS 14.4): a small hook instead of an unmaintained dependency (LIBRARY-NOTES 1.13). The
sign-in throttle registers its own hooks (``signin_throttle``) from :func:`register`.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from ..extensions import login_manager
from . import log as security_log
from .signin_throttle import LOGGED_429, register_signin_throttle

FRAME_ANCESTORS = "imh_frame_ancestors"  # set by lti.embedding.allow_framing
FORM_ACTION = "imh_form_action"  # set by the LTI deep-linking return page (the platform's origin)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"

log = logging.getLogger("imh_course.security")


def register(app: Flask) -> None:
    register_signin_throttle(app)
    _register_csrf_logging(app)
    _register_outage_page(app)

    @app.after_request
    def _headers(response: Response) -> Response:
        # LTI routes set the registered platforms as frame ancestors (lti.embedding); no other route can.
        ancestors = g.pop(FRAME_ANCESTORS, None)
        policy = (
            CSP
            if ancestors is None
            else CSP.replace("frame-ancestors 'none'", f"frame-ancestors {ancestors}")
        )
        form_action = g.pop(FORM_ACTION, None)
        if form_action:
            policy = policy.replace("form-action 'self'", f"form-action 'self' {form_action}")
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if ancestors is None:
            response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        # Pages for signed-in people carry personal data, downloads too: never cache them.
        if signed_in_or_unknown() or response.headers.get("Content-Disposition"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.after_request
    def _log_refusals(response: Response) -> Response:
        if response.status_code == 403:
            security_log.access_denied(current_user_id(), 403)
        elif response.status_code == 429 and not g.pop(LOGGED_429, False):
            security_log.rate_limited("route-limit")
        return response


def signed_in_or_unknown() -> bool:
    """Whether someone is signed in, True when that cannot be known.

    The commit that saved a request's work expires the signed-in user, so asking again reloads it; if
    the database went away just then (a PostgreSQL restart), the saved request must still be
    answered, not turned into an empty 500. Unknown counts as signed in: the page is never cached.
    """
    try:
        return bool(current_user.is_authenticated)
    except SQLAlchemyError:
        log.warning("could not tell who is signed in (database unavailable) for %s", request.path)
        return True


def current_user_id() -> int | None:
    """The signed-in user's id for a log line, or None (visitor, or the database is unavailable)."""
    try:
        return current_user.id if current_user.is_authenticated else None
    except SQLAlchemyError:
        return None


# CSRF failures --------------------------------------------------------------------------------


def _register_csrf_logging(app: Flask) -> None:
    """Log every CSRF refusal, then hand over to the friendly error page already registered."""
    existing = app.error_handler_spec.get(None, {}).get(400, {}).get(CSRFError)

    def _csrf_failed(error: CSRFError):  # noqa: ANN202
        user = current_user.id if current_user.is_authenticated else None
        security_log.csrf_failed(error.description or "CSRF check failed", user)
        return existing(error) if existing is not None else error

    app.register_error_handler(CSRFError, _csrf_failed)


# Database outages -----------------------------------------------------------------------------


def _register_outage_page(app: Flask) -> None:
    """Let the 503 page render while the database is down.

    The page, its layout and the header hook all ask ``current_user``; for a signed-in person
    that reloads the account (or refreshes it after the rollback) from the database that just
    failed, and the error page itself would crash. For the rest of this request the visitor is
    treated as anonymous, so nothing on the way out touches the database again.
    """
    existing = app.error_handler_spec.get(None, {}).get(None, {}).get(OperationalError)

    def _database_unavailable(error: OperationalError):  # noqa: ANN202
        g._login_user = login_manager.anonymous_user()
        if existing is not None:
            return existing(error)
        raise error

    app.register_error_handler(OperationalError, _database_unavailable)
