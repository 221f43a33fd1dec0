"""Sign-in throttling (ASVS 2.2.1): failed sign-ins counted per address and per account.

Failed sign-ins are counted per client address, per account and address, and per account (the
submitted email, lower-cased, stored only as a keyed hash). The first two block; the per-account
count blocks only addresses that failed on that account, so a stranger cannot lock a learner out,
and a reset link lifts the pause for its browser. The check runs in the first ``before_request``
hook, ahead of CSRFProtect, so a flood of token-less POSTs — which CSRF refuses with 400 — is
counted too (a route decorator would run after CSRF and never see them, LIBRARY-NOTES 1.4).
Counters live in the rate-limit storage configured for Flask-Limiter (``RATELIMIT_STORAGE_URI``:
``memory://`` by default, Redis with several workers) through the same ``limits`` library, with a
moving window, and in-process while that storage is unreachable. Only failures count, so a
classroom signing in from one address is not locked out by its own successful sign-ins.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, render_template, request, session
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from . import log as security_log

SIGNIN_ENDPOINT = "imh.login"
THROTTLE_EXTENSION = "imh_signin_throttle"
#: ``g`` flag: this 429 is logged already (the refusal hook in ``hooks`` logs the others)
LOGGED_429 = "_imh_ratelimit_logged"
_CHECKS = "_imh_signin_checks"
_SUCCEEDED = "_imh_signin_succeeded"
_RESET_GRANT = "imh_signin_grant"
#: How long after using a reset link its browser may sign in to that account despite the throttle.
RESET_GRANT_SECONDS = 15 * 60

log = logging.getLogger("imh_course.security")

T = TypeVar("T")


class FallbackStorage:
    """The configured limits storage, or an in-process one while that is unreachable.

    Redis going away must not stop sign-in, nor stop the throttle: while it is down, counts go to
    a ``MemoryStorage`` in this process (per worker, so the allowance is per worker too). The switch
    is logged once as a warning; Redis is tried again at most every ``retry_seconds`` (and by each
    ``/healthz`` probe), and when it answers the throttle goes back to it (counts made in-process
    are dropped: an outage briefly resets the windows, it never blocks anyone by mistake).
    """

    def __init__(self, uri: str, options: dict[str, Any], retry_seconds: float = 30.0) -> None:
        self.primary = storage_from_string(uri, **options)
        self._primary = MovingWindowRateLimiter(self.primary)
        self._fallback = MovingWindowRateLimiter(MemoryStorage())
        self.retry_seconds = retry_seconds
        self._degraded = False
        self._last_try = 0.0
        self._lock = threading.Lock()

    @property
    def degraded(self) -> bool:
        return self._degraded

    def run(self, operation: Callable[[MovingWindowRateLimiter], T]) -> T:
        """``operation`` on the configured storage, or in-process while that is unreachable."""
        if self._degraded and time.monotonic() - self._last_try >= self.retry_seconds:
            self.probe()
        if not self._degraded:
            try:
                return operation(self._primary)
            except Exception as exc:  # noqa: BLE001 - any storage failure: count in-process instead
                self._mark_degraded(exc)
        return operation(self._fallback)

    def probe(self) -> bool:
        """Ask the configured storage now; switch to or from in-process counting. True if it answers."""
        try:
            healthy = bool(self.primary.check())
        except Exception:  # noqa: BLE001 - a failing check is an unhealthy storage
            healthy = False
        if not healthy:
            self._mark_degraded(None)
            return False
        with self._lock:
            recovered, self._degraded = self._degraded, False
        if recovered:
            log.info("sign-in throttle storage is back; counting there again")
        return True

    def _mark_degraded(self, exc: Exception | None) -> None:
        with self._lock:
            first, self._degraded = not self._degraded, True
            self._last_try = time.monotonic()
        if first:
            log.warning(
                "sign-in throttle storage unreachable (%s); counting in-process until it is back",
                type(exc).__name__ if exc else "no answer",
            )


@dataclass(frozen=True)
class Check:
    """One limit on one counter: ``kind`` names it in the security log."""

    kind: str
    item: RateLimitItem
    ids: tuple[str, ...]


@dataclass(frozen=True)
class SigninThrottle:
    """The per-app limiter state: storage (with its fallback) and the parsed limits.

    Three counters of failed sign-ins: per address, per account *and* address, per account. The
    first two block. The per-account one alone blocks only addresses that failed on that account
    in its window: a stranger's wrong passwords cannot lock a learner out, because the learner's
    own device (an address with no recent failures on the account) still gets in, while every
    address a distributed guesser has used is paused once the account limit is reached.
    """

    storage: FallbackStorage
    per_ip: tuple[RateLimitItem, ...]
    per_account: tuple[RateLimitItem, ...]
    prefix: str

    @classmethod
    def from_config(cls, config: dict) -> SigninThrottle:
        return cls(
            storage=FallbackStorage(
                config.get("RATELIMIT_STORAGE_URI") or "memory://",
                config.get("RATELIMIT_STORAGE_OPTIONS", {}),
            ),
            per_ip=tuple(parse_many(config["IMH_SIGNIN_LIMIT_PER_IP"])),
            per_account=tuple(parse_many(config["IMH_SIGNIN_LIMIT_PER_ACCOUNT"])),
            prefix=config.get("RATELIMIT_KEY_PREFIX") or "imh",
        )

    def checks(self, ip: str, email: str) -> tuple[list[Check], list[Check], list[Check]]:
        """(per address, per account and address, per account) checks; the email only as a keyed hash."""
        by_ip = [Check("ip", item, (self.prefix, "signin-ip", ip)) for item in self.per_ip]
        if not email:
            return by_ip, [], []
        account = account_key(email)
        pair = [
            Check("account", item, (self.prefix, "signin-account-ip", account, ip))
            for item in self.per_account
        ]
        whole = [
            Check("account", item, (self.prefix, "signin-account", account)) for item in self.per_account
        ]
        return by_ip, pair, whole

    def blocked(self, ip: str, email: str) -> tuple[list[Check], list[Check]]:
        """(checks that refuse this attempt, every check to count if it fails)."""
        by_ip, pair, whole = self.checks(ip, email)

        def decide(strategy: MovingWindowRateLimiter) -> list[Check]:
            refused = [c for c in by_ip + pair if not strategy.test(c.item, *c.ids)]
            over = [c for c in whole if not strategy.test(c.item, *c.ids)]
            if over and any(
                strategy.get_window_stats(c.item, *c.ids).remaining < c.item.amount for c in pair
            ):
                refused += over
            return refused

        return self.storage.run(decide), by_ip + pair + whole

    def count_failure(self, checks: list[Check]) -> None:
        def hit(strategy: MovingWindowRateLimiter) -> None:
            for check in checks:
                strategy.hit(check.item, *check.ids)

        self.storage.run(hit)

    def retry_after(self, refused: list[Check]) -> int:
        """Seconds until every refusing window has room again (at least 1)."""

        def reset_at(strategy: MovingWindowRateLimiter) -> float:
            return max(strategy.get_window_stats(c.item, *c.ids).reset_time for c in refused)

        return max(1, math.ceil(self.storage.run(reset_at) - time.time()))


def account_key(email: str) -> str:
    """The email, normalised, as an HMAC under the app secret (workers share the secret)."""
    secret = str(current_app.config.get("SECRET_KEY") or "imh").encode("utf-8")
    return hmac.new(secret, email.strip().lower().encode("utf-8"), hashlib.sha256).hexdigest()[:40]


def limiter_health(app: Flask) -> str:
    """``ok``, ``degraded`` (the rate-limit storage does not answer: in-process limits) or ``disabled``."""
    throttle: SigninThrottle | None = app.extensions.get(THROTTLE_EXTENSION)
    if throttle is None:
        return "disabled"
    return "ok" if throttle.storage.probe() else "degraded"


def signin_succeeded() -> None:
    """Called by the sign-in view on success: this attempt is not counted as a failure."""
    setattr(g, _SUCCEEDED, True)
    session.pop(_RESET_GRANT, None)


def grant_signin_after_reset(email: str) -> None:
    """After a reset link was used, this browser may sign in to that account despite the throttle.

    The link proved the person controls the account, so a paused sign-in (an attacker's failures
    from a shared address, the learner's own typos) must not keep them out. The grant lives in
    the signed session cookie, covers that one account for ``RESET_GRANT_SECONDS`` and ends at
    the next successful sign-in; failures during it are still counted.
    """
    session[_RESET_GRANT] = {"account": account_key(email), "until": time.time() + RESET_GRANT_SECONDS}


def _granted(email: str) -> bool:
    grant = session.get(_RESET_GRANT)
    if not isinstance(grant, dict) or not email:
        return False
    until = grant.get("until")
    if not isinstance(until, int | float) or until < time.time():
        session.pop(_RESET_GRANT, None)
        return False
    return hmac.compare_digest(str(grant.get("account", "")), account_key(email))


def register_signin_throttle(app: Flask) -> None:
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
    refused, counted = throttle.blocked(request.remote_addr or "unknown", email)
    if not refused or _granted(email):
        setattr(g, _CHECKS, counted)
        return None
    kinds = sorted({check.kind for check in refused})
    security_log.rate_limited("signin-" + "+".join(kinds), email or None)
    setattr(g, LOGGED_429, True)
    return _too_many_attempts(throttle.retry_after(refused), kinds)


def _count_signin_failure(response: Response) -> Response:
    checks = g.pop(_CHECKS, None)
    succeeded = g.pop(_SUCCEEDED, False)
    if not checks or succeeded:
        return response
    throttle: SigninThrottle = current_app.extensions[THROTTLE_EXTENSION]
    throttle.count_failure(checks)
    return response


def _too_many_attempts(retry_after: int, kinds: list[str]) -> tuple[str, int, dict[str, str]]:
    """The sign-in page again, saying what happened, when to retry and that a reset link works."""
    from ..forms.auth import LoginForm

    minutes = max(1, math.ceil(retry_after / 60))
    if "account" in kinds:
        what = (
            "There have been too many failed attempts to sign in to this account from this device or "
            "network, so signing in from here is paused. Your password has not been changed, and "
            "other devices that have not failed can still sign in."
        )
    else:
        what = (
            "There have been too many failed sign-in attempts from this network, so signing in from "
            "here is paused."
        )
    form = LoginForm()
    form.password.data = ""
    html = render_template(
        "imh_course/login.html",
        form=form,
        paused={
            "what": what,
            "when": f"Please try again in {minutes} minute{'s' if minutes != 1 else ''}.",
        },
    )
    return html, 429, {"Retry-After": str(retry_after)}
