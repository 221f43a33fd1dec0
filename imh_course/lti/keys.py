"""The tool's own RSA keys: ``flask imh lti keys rotate`` and the public key set platforms fetch.

The newest unretired key signs. Rotating adds a new key and keeps the one it replaces published,
so a platform that cached the old key set still verifies messages signed just before; every key
older than that is retired (no longer published, never used again). Keys are rows, not files,
so every worker and host signs with the same key. The private half is stored encrypted (PKCS#8,
with the credentials' passphrase: ``IMH_CREDENTIAL_KEY_PASSPHRASE``, else ``SECRET_KEY``), so a
database dump or backup alone cannot impersonate the tool; a key written unencrypted by an earlier
version still signs.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from ..credentials.keys import key_passphrase
from ..database import begin_write, serialize_writers
from ..extensions import db
from ..models.audit_chain import Actor, record_event
from ..models.lti import LtiToolKey
from ..models.types import utcnow

KEY_BITS = 2048
ALGORITHM = "RS256"


def _new_key() -> LtiToolKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    kid = secrets.token_urlsafe(16)
    jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update(kid=kid, alg=ALGORITHM, use="sig")
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(key_passphrase()),
    ).decode("ascii")
    return LtiToolKey(kid=kid, private_pem=pem, public_jwk=json.dumps(jwk, sort_keys=True))


def live_keys() -> list[LtiToolKey]:
    """Unretired keys, newest first."""
    return list(
        db.session.scalars(
            select(LtiToolKey).where(LtiToolKey.retired_dt.is_(None)).order_by(LtiToolKey.id.desc())
        )
    )


def rotate(actor: Actor) -> tuple[LtiToolKey, list[LtiToolKey]]:
    """A new signing key; the previous one stays published; older ones are retired. Flushes, audits."""
    begin_write()
    serialize_writers("lti-keys")
    key = _new_key()
    db.session.add(key)
    db.session.flush()
    retired = [old for old in live_keys() if old.id != key.id][1:]
    for old in retired:
        old.retired_dt = utcnow()
    record_event(
        actor, "lti.key_rotate", "lti_tool_key", key.id,
        after={"kid": key.kid, "retired": [old.kid for old in retired]},
    )  # fmt: skip
    db.session.flush()
    return key, retired


def signing_key() -> LtiToolKey | None:
    keys = live_keys()
    return keys[0] if keys else None


def public_jwks() -> dict[str, list[dict[str, Any]]]:
    """The tool's JSON Web Key Set: every unretired public key."""
    return {"keys": [json.loads(key.public_jwk) for key in live_keys()]}


def sign(claims: dict[str, Any]) -> str:
    """A JWT signed with the current key (deep-linking responses, service token requests)."""
    key = signing_key()
    if key is None:
        raise RuntimeError("the tool has no key yet: run `flask imh lti keys rotate`")
    return jwt.encode(claims, _private_key(key), algorithm=ALGORITHM, headers={"kid": key.kid})


_loaded: dict[tuple[str, bytes], rsa.RSAPrivateKey] = {}


def _private_key(key: LtiToolKey) -> rsa.RSAPrivateKey:
    """The decrypted private key, kept per process (decrypting costs a key derivation)."""
    encrypted = key.private_pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    password = key_passphrase() if encrypted else None
    cache_key = (key.kid, password or b"")
    if cache_key not in _loaded:
        loaded = serialization.load_pem_private_key(key.private_pem.encode("ascii"), password=password)
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise RuntimeError(f"LTI tool key {key.kid} is not an RSA key")
        _loaded[cache_key] = loaded
    return _loaded[cache_key]
