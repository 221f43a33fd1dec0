"""Signing keys: ES256 (P-256) key pairs in the database, private halves encrypted.

Why ES256 and not EdDSA: RFC 9864 deprecates the polymorphic ``EdDSA`` JOSE algorithm (joserfc
1.8.0 warns on every use) and its replacement ``Ed25519`` is not yet understood by most
verifiers (PyJWT 2.15 has no such algorithm); ES256 is supported everywhere VC-JOSE is.

Why in the database: every worker and host of the site signs with the same key and a backup
holds it, without a key file to copy around. The private key is stored only as encrypted
PKCS#8 (``IMH_CREDENTIAL_KEY_PASSPHRASE``, else the app's ``SECRET_KEY``), so a database dump
alone cannot sign. Rotation retires the active key (it keeps verifying what it signed, and stays
in the published JWKS) and creates a new one. Writes flush and audit; callers commit.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from joserfc.jwk import ECKey
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..database import begin_write, locked
from ..extensions import db
from ..models.audit_chain import Actor, record_event
from ..models.credentials import SigningKey
from ..models.types import utcnow

ALGORITHM = "ES256"
CURVE = "P-256"


class SigningKeyError(RuntimeError):
    """A key action that cannot be done (no key yet, or one already active)."""


def key_passphrase() -> bytes:
    """What encrypts the site's private keys at rest (these signing keys and the LTI tool's)."""
    secret = current_app.config.get("IMH_CREDENTIAL_KEY_PASSPHRASE") or current_app.config.get("SECRET_KEY")
    if not secret:
        raise SigningKeyError(
            "Set IMH_CREDENTIAL_KEY_PASSPHRASE (or SECRET_KEY) to encrypt the signing keys."
        )
    return secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)


def active_key() -> SigningKey | None:
    return db.session.scalar(select(SigningKey).where(SigningKey.retired_dt.is_(None)))


def key_by_kid(kid: str) -> SigningKey | None:
    if not kid or len(kid) > 64:
        return None
    return db.session.scalar(select(SigningKey).where(SigningKey.kid == kid))


def all_keys() -> list[SigningKey]:
    return list(db.session.scalars(select(SigningKey).order_by(SigningKey.id)))


def private_key(row: SigningKey) -> ECKey:
    return ECKey.import_key(row.private_pem.encode("ascii"), password=key_passphrase())


def public_key(row: SigningKey) -> ECKey:
    return ECKey.import_key(dict(row.public_jwk))


def public_jwk(row: SigningKey, kid_prefix: str) -> dict[str, Any]:
    """The published JWK: its ``kid`` is the URL a credential's header names."""
    return {**row.public_jwk, "kid": kid_prefix + row.kid, "alg": row.algorithm, "use": "sig"}


def _new_key(actor: Actor) -> SigningKey:
    key = ECKey.generate_key(CURVE, private=True)
    row = SigningKey(
        kid=key.thumbprint(),
        algorithm=ALGORITHM,
        public_jwk=key.as_dict(private=False),
        private_pem=key.as_pem(private=True, password=key_passphrase()).decode("ascii"),
        created_dt=utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        raise SigningKeyError(
            "Another signing key was made at the same time; run the command again."
        ) from None
    record_event(
        actor, "credentials.key_create", "signing_key", row.id, after={"kid": row.kid, "alg": ALGORITHM}
    )
    return row


def create_key(actor: Actor) -> SigningKey:
    """The first signing key (refused when one is active: use :func:`rotate_key`)."""
    begin_write()
    if active_key() is not None:
        raise SigningKeyError("A signing key is already active; use `flask imh credentials keys rotate`.")
    return _new_key(actor)


def rotate_key(actor: Actor) -> tuple[SigningKey | None, SigningKey]:
    """Retire the active key (kept for verification) and make a new one: (retired, new)."""
    begin_write()
    old = db.session.scalar(locked(select(SigningKey).where(SigningKey.retired_dt.is_(None))))
    if old is not None:
        old.retired_dt = utcnow()
        db.session.flush()
        record_event(actor, "credentials.key_retire", "signing_key", old.id, after={"kid": old.kid})
    return old, _new_key(actor)
