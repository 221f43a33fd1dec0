"""Bitstring Status List (W3C, v1.0): the bits of revoked credentials, compressed and encoded.

Pure. The list has at least 131,072 entries (16 KB), the spec's minimum for herd privacy; index 0
is the most significant bit of the first byte. ``encodedList`` is the multibase base64url (no
padding, prefix ``u``) of the GZIP-compressed bitstring. ``mtime=0`` keeps the bytes reproducible.
"""

from __future__ import annotations

import base64
import gzip
import io
from collections.abc import Iterable
from typing import Any

from .badge import VC_CONTEXT

LIST_SIZE = 131_072
STATUS_PURPOSE = "revocation"
MAX_ENCODED_CHARS = 200_000


class StatusListError(ValueError):
    """An encoded list that cannot be decoded (not multibase base64url, not gzip, too short)."""


def encode_bitstring(set_indices: Iterable[int], size: int = LIST_SIZE) -> str:
    """The ``encodedList`` for a list of ``size`` bits where ``set_indices`` are 1."""
    bits = bytearray(size // 8)
    for index in set_indices:
        if not 0 <= index < size:
            raise ValueError(f"status index {index} is outside the list (0..{size - 1})")
        bits[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode("ascii").rstrip("=")


def decode_bitstring(encoded: str) -> bytes:
    """The raw bitstring of an ``encodedList`` (raises :class:`StatusListError`)."""
    if not isinstance(encoded, str) or not encoded.startswith("u") or len(encoded) > MAX_ENCODED_CHARS:
        raise StatusListError("the encoded list is not multibase base64url")
    body = encoded[1:]
    try:
        compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        with gzip.GzipFile(fileobj=io.BytesIO(compressed)) as stream:
            bits = stream.read(LIST_SIZE // 8 * 8 + 1)  # bounded: a gzip bomb stops here
    except (ValueError, OSError, EOFError) as exc:
        raise StatusListError("the encoded list is not gzip-compressed base64url") from exc
    if len(bits) < LIST_SIZE // 8:
        raise StatusListError("the list is shorter than 131,072 entries")
    return bits


def bit_is_set(bits: bytes, index: int) -> bool:
    if not 0 <= index < len(bits) * 8:
        raise StatusListError(f"status index {index} is outside the list")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def status_entry(list_url: str, index: int) -> dict[str, Any]:
    """The ``credentialStatus`` of one credential."""
    return {
        "id": f"{list_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": STATUS_PURPOSE,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def status_list_credential(
    list_url: str, issuer: dict[str, Any], revoked: Iterable[int], valid_from: str
) -> dict[str, Any]:
    """The unsigned ``BitstringStatusListCredential`` listing ``revoked`` indices."""
    return {
        "@context": [VC_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": valid_from,
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": STATUS_PURPOSE,
            "encodedList": encode_bitstring(revoked),
        },
    }
