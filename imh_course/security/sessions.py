"""How long a sign-in lasts: 12 hours at most, and 30 minutes without activity (ASVS 3.3.2).

Flask's signed cookie is re-signed whenever the session changes, so its own age says nothing
about when the person signed in. The session therefore carries two stamps, written when
Flask-Login signs someone in (any path: the sign-in form, a password change): the sign-in time
and the time of the last request. Both are inside the signed cookie, so a client cannot move
them; a copied cookie expires exactly like the original.

When either limit is passed the person is signed out of *this* session (other devices are not
touched), told why, and — on a page that needs a sign-in — sent to the sign-in form with ``next``.
"""

from __future__ import annotations

import time

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user, user_logged_in

from . import log as security_log
from .access import ACCESS_ATTR

SIGNED_IN_AT = "_imh_signed_in_at"
LAST_SEEN = "_imh_last_seen"
#: Refresh the last-seen stamp at most this often, so every response need not re-send the cookie.
SEEN_GRANULARITY_SECONDS = 30

IDLE_MESSAGE = "You were signed out after {minutes} minutes without activity. Please sign in again."
LIFETIME_MESSAGE = (
    "You were signed out because you signed in more than {hours} hours ago. Please sign in again."
)


def now() -> int:
    """Seconds since the epoch (a function so tests can move the clock)."""
    return int(time.time())


@user_logged_in.connect
def _stamp_sign_in(_sender: Flask, **_extra: object) -> None:
    """Every successful sign-in starts both clocks afresh."""
    moment = now()
    session[SIGNED_IN_AT] = moment
    session[LAST_SEEN] = moment


def register(app: Flask) -> None:
    app.before_request(enforce_session_limits)


def enforce_session_limits():  # noqa: ANN201 - None or a redirect
    """Sign out sessions past the absolute lifetime or the idle timeout; refresh last-seen."""
    endpoint = request.endpoint or ""
    if not endpoint or endpoint == "static" or endpoint.endswith(".static"):
        return None
    if not current_user.is_authenticated:
        return None
    moment = now()
    signed_in_at = session.get(SIGNED_IN_AT)
    last_seen = session.get(LAST_SEEN)
    if not isinstance(signed_in_at, int):  # a session from before these stamps existed
        session[SIGNED_IN_AT] = signed_in_at = moment
    lifetime = int(current_app.permanent_session_lifetime.total_seconds())
    idle_minutes = int(current_app.config.get("IMH_IDLE_TIMEOUT_MINUTES", 30))
    if moment - signed_in_at > lifetime:
        return _sign_out("lifetime", LIFETIME_MESSAGE.format(hours=round(lifetime / 3600)))
    if idle_minutes > 0 and isinstance(last_seen, int) and moment - last_seen > idle_minutes * 60:
        return _sign_out("idle", IDLE_MESSAGE.format(minutes=idle_minutes))
    if not isinstance(last_seen, int) or moment - last_seen >= SEEN_GRANULARITY_SECONDS:
        session[LAST_SEEN] = moment
    return None


def _sign_out(why: str, message: str):  # noqa: ANN202
    user_id = current_user.id
    logout_user()
    session.clear()
    security_log.session_expired(user_id, why)
    flash(message, "info")
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, ACCESS_ATTR, None) == "public":
        return None  # a public page simply continues for the now anonymous visitor
    target = request.full_path.rstrip("?") if request.method in ("GET", "HEAD") else None
    return redirect(url_for("imh.login", next=target))
