"""VC-JOSE: a credential as a compact JWS (``typ: vc+jwt``), signed and checked with joserfc.

The payload is the credential itself (VC-JOSE-COSE for VC 2.0: no ``vc`` wrapper claim). The
header's ``kid`` is the URL of the key in the published JWKS (``…/jwks.json#<thumbprint>``), so
any verifier can fetch it; this app looks the key up by the thumbprint after ``#``.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

ALGORITHMS = ["ES256"]
MAX_TOKEN_CHARS = 64 * 1024


class JoseFormatError(ValueError):
    """Not a compact JWS, or its header or payload is not JSON."""


def sign(payload: dict[str, Any], key: ECKey, kid: str) -> str:
    header = {"alg": "ES256", "typ": "vc+jwt", "cty": "vc", "kid": kid}
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return jws.serialize_compact(header, body, key, algorithms=ALGORITHMS)


def _b64_json(segment: str, what: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise JoseFormatError(f"the {what} is not base64url-encoded JSON") from exc
    if not isinstance(value, dict):
        raise JoseFormatError(f"the {what} is not a JSON object")
    return value


def split(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, payload) of a compact JWS, *not* verified (raises :class:`JoseFormatError`)."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise JoseFormatError("a signed credential has three parts separated by dots")
    return _b64_json(parts[0], "header"), _b64_json(parts[1], "payload")


def kid_thumbprint(kid: object) -> str:
    """The thumbprint a header's ``kid`` names (the part after ``#``, or the whole value)."""
    if not isinstance(kid, str):
        return ""
    return kid.rsplit("#", 1)[-1]


def signature_valid(token: str, key: ECKey) -> bool:
    try:
        jws.deserialize_compact(token, key, algorithms=ALGORITHMS)
    except (JoseError, ValueError):
        return False
    return True
