"""Single-use, expiring links for invitations and password resets.

Only a hash of the secret is stored, so a database leak does not leak working links; a link is
consumed with a conditional UPDATE, so two clicks (or two workers) cannot both use it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update

from ..extensions import db
from ..models.accounts import AccountToken, TokenPurpose, User
from ..models.types import utcnow

INVITE_TTL = timedelta(days=14)
RESET_TTL = timedelta(hours=1)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def issue_token(user: User, purpose: TokenPurpose, ttl: timedelta | None = None) -> str:
    """Create a link secret for ``user``; returns the raw secret (shown once, never stored)."""
    raw = secrets.token_urlsafe(32)
    lifetime = ttl or (INVITE_TTL if purpose is TokenPurpose.INVITE else RESET_TTL)
    db.session.add(
        AccountToken(
            user_id=user.id, purpose=purpose, token_hash=_digest(raw), expires_dt=utcnow() + lifetime
        )
    )
    db.session.flush()
    return raw


def find_valid_token(raw: str, now: datetime | None = None) -> AccountToken | None:
    """The unused, unexpired token for ``raw`` (any purpose), or None."""
    if not raw or len(raw) > 200:
        return None
    now = now or utcnow()
    token = db.session.scalar(select(AccountToken).where(AccountToken.token_hash == _digest(raw)))
    if token is None or token.used_dt is not None or token.expires_dt <= now:
        return None
    return token


def consume_token(raw: str, now: datetime | None = None) -> AccountToken | None:
    """Use the token once: returns it if this call consumed it, None if invalid, expired or used."""
    now = now or utcnow()
    token = find_valid_token(raw, now)
    if token is None:
        return None
    result = db.session.execute(
        update(AccountToken)
        .where(AccountToken.id == token.id, AccountToken.used_dt.is_(None))
        .values(used_dt=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    db.session.refresh(token)
    return token
