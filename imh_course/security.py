"""Security hooks: response headers, sign-in throttling and security-event logging.

Headers (ASVS 14.4): a small hook instead of an unmaintained dependency (LIBRARY-NOTES 1.13).

Sign-in throttling (ASVS 2.2.1): failed sign-ins are counted per client address *and* per account
(the submitted email, lower-cased, stored only as a keyed hash). The check runs in the first
``before_request`` hook, ahead of CSRFProtect, so a flood of token-less POSTs — which CSRF refuses
with 400 — is counted too (a route decorator would run after CSRF and never see them,
LIBRARY-NOTES 1.4). Counters live in the rate-limit storage configured for Flask-Limiter
(``RATELIMIT_STORAGE_URI``: ``memory://`` by default, Redis with several workers) through the
same ``limits`` library, with a moving window. Only failures count, so a classroom signing in
from one address is not locked out by its own successful sign-ins.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy.exc import OperationalError

from . import security_log
from .extensions import login_manager

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"

SIGNIN_ENDPOINT = "imh.login"
THROTTLE_EXTENSION = "imh_signin_throttle"
_CHECKS = "_imh_signin_checks"
_SUCCEEDED = "_imh_signin_succeeded"
_LOGGED_429 = "_imh_ratelimit_logged"

log = logging.getLogger("imh_course.security")


def register(app: Flask) -> None:
    _register_signin_throttle(app)
    _register_csrf_logging(app)
    _register_outage_page(app)

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        # Pages for signed-in people carry personal data, downloads too: never cache them.
        if current_user.is_authenticated or response.headers.get("Content-Disposition"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.after_request
    def _log_refusals(response: Response) -> Response:
        if response.status_code == 403:
            user = current_user.id if current_user.is_authenticated else None
            security_log.access_denied(user, 403)
        elif response.status_code == 429 and not g.pop(_LOGGED_429, False):
            security_log.rate_limited("route-limit")
        return response


# Sign-in throttling ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SigninThrottle:
    """The per-app limiter state: storage, strategy and the parsed limits."""

    strategy: MovingWindowRateLimiter
    per_ip: tuple[RateLimitItem, ...]
    per_account: tuple[RateLimitItem, ...]
    prefix: str

    @classmethod
    def from_config(cls, config: dict) -> SigninThrottle:
        storage = storage_from_string(
            config.get("RATELIMIT_STORAGE_URI") or "memory://", **config.get("RATELIMIT_STORAGE_OPTIONS", {})
        )
        return cls(
            strategy=MovingWindowRateLimiter(storage),
            per_ip=tuple(parse_many(config["IMH_SIGNIN_LIMIT_PER_IP"])),
            per_account=tuple(parse_many(config["IMH_SIGNIN_LIMIT_PER_ACCOUNT"])),
            prefix=config.get("RATELIMIT_KEY_PREFIX") or "imh",
        )

    def checks(self, ip: str, email: str) -> list[tuple[str, RateLimitItem, tuple[str, ...]]]:
        """(kind, limit, storage identifiers) for this attempt; the email only as a keyed hash."""
        found = [("ip", item, (self.prefix, "signin-ip", ip)) for item in self.per_ip]
        if email:
            found += [
                ("account", item, (self.prefix, "signin-account", account_key(email)))
                for item in self.per_account
            ]
        return found


def account_key(email: str) -> str:
    """The email, normalised, as an HMAC under the app secret (workers share the secret)."""
    secret = str(current_app.config.get("SECRET_KEY") or "imh").encode("utf-8")
    return hmac.new(secret, email.strip().lower().encode("utf-8"), hashlib.sha256).hexdigest()[:40]


def signin_succeeded() -> None:
    """Called by the sign-in view on success: this attempt is not counted as a failure."""
    setattr(g, _SUCCEEDED, True)


def _register_signin_throttle(app: Flask) -> None:
    if not app.config.get("RATELIMIT_ENABLED", True):
        return
    app.extensions[THROTTLE_EXTENSION] = SigninThrottle.from_config(app.config)
    # First of all before_request hooks, whatever order the host initialised CSRFProtect in.
    app.before_request_funcs.setdefault(None, []).insert(0, _check_signin_limit)
    app.after_request(_count_signin_failure)


def _check_signin_limit():  # noqa: ANN202 - None or the 429 page
    if request.method != "POST" or request.endpoint != SIGNIN_ENDPOINT:
        return None
    throttle: SigninThrottle | None = current_app.extensions.get(THROTTLE_EXTENSION)
    if throttle is None:
        return None
    g.pop(_SUCCEEDED, None)  # g outlives a request when a caller keeps one app context open
    email = (request.form.get("email") or "")[:254].strip().lower()
    checks = throttle.checks(request.remote_addr or "unknown", email)
    try:
        blocked = [(kind, item, ids) for kind, item, ids in checks if not throttle.strategy.test(item, *ids)]
        if not blocked:
            setattr(g, _CHECKS, checks)
            return None
        reset_at = max(throttle.strategy.get_window_stats(item, *ids).reset_time for _, item, ids in blocked)
    except Exception:  # storage unreachable: fail open, loudly (sign-in must keep working)
        log.exception("sign-in throttle storage unavailable; attempt not limited")
        return None
    kinds = sorted({kind for kind, _, _ in blocked})
    security_log.rate_limited("signin-" + "+".join(kinds), email or None)
    setattr(g, _LOGGED_429, True)
    return _too_many_attempts(max(1, math.ceil(reset_at - time.time())))


def _count_signin_failure(response: Response) -> Response:
    checks = g.pop(_CHECKS, None)
    succeeded = g.pop(_SUCCEEDED, False)
    if not checks or succeeded:
        return response
    throttle: SigninThrottle = current_app.extensions[THROTTLE_EXTENSION]
    try:
        for _kind, item, ids in checks:
            throttle.strategy.hit(item, *ids)
    except Exception:
        log.exception("sign-in throttle storage unavailable; failure not counted")
    return response


def _too_many_attempts(retry_after: int) -> tuple[str, int, dict[str, str]]:
    minutes = max(1, math.ceil(retry_after / 60))
    html = render_template(
        "imh_course/error.html",
        status=429,
        title="Too many sign-in attempts",
        detail=(
            "To protect your account, signing in is paused for a while. "
            f"Please try again in {minutes} minute{'s' if minutes != 1 else ''}."
        ),
    )
    return html, 429, {"Retry-After": str(retry_after)}


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
