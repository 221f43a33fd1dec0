"""The Bitstring Status List encoding, checked against a decoder written here from the spec."""

from __future__ import annotations

import base64
import gzip

import pytest

from imh_course.credentials.status_list import (
    LIST_SIZE,
    StatusListError,
    bit_is_set,
    decode_bitstring,
    encode_bitstring,
    status_entry,
)


def spec_decode(encoded: str) -> bytes:
    """Multibase 'u' + base64url (no padding) of GZIP, per Bitstring Status List v1.0."""
    assert encoded[0] == "u" and "=" not in encoded
    body = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def test_the_list_has_at_least_131072_entries_and_is_all_zero_when_nothing_is_revoked():
    bits = spec_decode(encode_bitstring([]))
    assert len(bits) * 8 == LIST_SIZE == 131_072 and not any(bits)


def test_index_zero_is_the_leftmost_bit_and_the_last_index_the_rightmost():
    bits = spec_decode(encode_bitstring([0, 9, LIST_SIZE - 1]))
    assert bits[0] == 0b1000_0000 and bits[1] == 0b0100_0000 and bits[-1] == 0b0000_0001
    assert sum(bin(b).count("1") for b in bits) == 3


def test_round_trip_and_bit_lookup():
    decoded = decode_bitstring(encode_bitstring([5, 77_777]))
    assert [i for i in (4, 5, 6, 77_776, 77_777) if bit_is_set(decoded, i)] == [5, 77_777]


@pytest.mark.parametrize("index", [-1, LIST_SIZE])
def test_an_index_outside_the_list_is_refused(index):
    with pytest.raises(ValueError):
        encode_bitstring([index])


@pytest.mark.parametrize(
    "encoded", ["", "zabc", "u!!!", "u" + base64.urlsafe_b64encode(b"not gzip").decode()]
)
def test_garbage_lists_are_refused_with_a_reason(encoded):
    with pytest.raises(StatusListError):
        decode_bitstring(encoded)


def test_a_short_list_is_refused():
    short = "u" + base64.urlsafe_b64encode(gzip.compress(b"\0" * 100)).decode().rstrip("=")
    with pytest.raises(StatusListError):
        decode_bitstring(short)


def test_an_entry_names_its_list_and_index_as_a_string():
    entry = status_entry("https://x.test/status", 42)
    assert entry == {
        "id": "https://x.test/status#42",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "42",
        "statusListCredential": "https://x.test/status",
    }
