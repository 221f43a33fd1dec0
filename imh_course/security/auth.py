"""Passwords and the login session.

The login cookie carries ``"<user id>:<session token>"``; rotating the token on sign-out makes
every copy of the old cookie worthless, which Flask's signed client-side session alone cannot do.
"""

from __future__ import annotations

import contextlib
from hashlib import sha512

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, request
from flask_login import LoginManager
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db

_DUMMY_HASH: dict[tuple[int, int, int], str] = {}


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg["IMH_ARGON2_TIME_COST"],
        memory_cost=cfg["IMH_ARGON2_MEMORY_COST"],
        parallelism=cfg["IMH_ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant-effort check: an unknown account still costs one hash, so timing tells nothing."""
    hasher = _hasher()
    if stored_hash is None:
        key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
        if key not in _DUMMY_HASH:
            _DUMMY_HASH[key] = hasher.hash("not-a-real-password")
        stored_hash = _DUMMY_HASH[key]
        with contextlib.suppress(VerificationError, InvalidHashError):
            hasher.verify(stored_hash, password)
        return False
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher().check_needs_rehash(stored_hash)


def forget_cached_user() -> None:
    g.pop("_login_user", None)


def configure_login(manager: LoginManager) -> None:
    manager.login_view = "imh.login"
    manager.login_message = "Please sign in to continue."
    manager.login_message_category = "info"
    manager.session_protection = "strong"
    manager._session_identifier_generator = session_identifier  # noqa: SLF001 - Flask-Login's hook
    manager.user_loader(load_user)


def session_identifier() -> str:
    """What "strong" session protection compares on each request: the user agent, and the client
    address only when ``IMH_SESSION_BIND_ADDRESS`` is on.

    Flask-Login binds to the address by default, which signs a learner out when their phone moves
    from Wi-Fi to mobile data in the middle of a quiz; the rotating session token and the
    user-agent check remain whatever this setting says.
    """
    parts = [request.headers.get("User-Agent", "")]
    if current_app.config.get("IMH_SESSION_BIND_ADDRESS"):
        parts.append(request.remote_addr or "")
    return sha512("|".join(parts).encode("utf-8", "replace")).hexdigest()


def load_user(cookie_id: str):  # noqa: ANN201 - Flask-Login callback
    from ..models.accounts import User

    user_id, _, token = cookie_id.partition(":")
    if not user_id.isdigit() or len(user_id) > 18 or not token:  # 18 digits: within BIGINT
        return None
    # Every signed-in request starts here: the user and their roles in one round trip, not two.
    user = (
        db.session.scalars(select(User).where(User.id == int(user_id)).options(joinedload(User.roles)))
        .unique()
        .first()
    )
    if user is None or user.session_token != token or not user.is_enabled:
        return None
    return user
