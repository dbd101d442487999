"""Gate pass tokens: signed by the server, checked by any ES256 verifier."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from hypothesis import given
from hypothesis import strategies as st

from server import passes

SECRET = "a test secret key that is long enough"
NOW = datetime(2022, 4, 2, 9, 0, tzinfo=UTC)
#: One key for the property tests (making a key per example would be slow).
KEY = passes.new_key(SECRET)


def b64url(text: str) -> bytes:
    """Decode unpadded base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def a_claims(**overrides: object) -> dict[str, object]:
    """Return the pinned claims of a pass valid around ``NOW``."""
    claims: dict[str, object] = {
        "pid": "6f1c7a52-2f4e-4a77-9a43-0c2f4f1d9b10",
        "cid": "0d8b8e0e-5c2d-4a55-8f5e-3f0f1a9d2c11",
        "kind": "resident",
        "nbf": int((NOW - timedelta(days=1)).timestamp()),
        "exp": int((NOW + timedelta(days=6)).timestamp()),
        "ini": "Z.W.",
        "addr": "12-3-502",
    }
    claims.update(overrides)
    return claims


def independent_verify(token: str, jwk: dict[str, str]) -> dict[str, object]:
    """Verify an ES256 JWS with ``cryptography`` alone, as a gate device would with WebCrypto."""
    header_b64, payload_b64, signature_b64 = token.split(".")
    header = json.loads(b64url(header_b64))
    assert header == {"alg": "ES256", "kid": jwk["kid"]}
    raw = b64url(signature_b64)
    assert len(raw) == 64  # r || s, not DER (RFC 7518 §3.4)
    x, y = (int.from_bytes(b64url(jwk[axis]), "big") for axis in ("x", "y"))
    numbers = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1())
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    numbers.public_key().verify(
        der, f"{header_b64}.{payload_b64}".encode("ascii"), ec.ECDSA(hashes.SHA256())
    )
    return json.loads(b64url(payload_b64))


def test_a_pass_verifies_with_an_independent_es256_verifier() -> None:
    key = passes.new_key(SECRET)
    token = passes.sign(key, SECRET, a_claims())
    assert independent_verify(token, dict(key.public_jwk)) == a_claims()
    assert passes.verify(token, [key.public_jwk], NOW) == a_claims()


def test_the_public_jwk_holds_no_private_part() -> None:
    key = passes.new_key(SECRET)
    assert set(key.public_jwk) == {"kty", "crv", "x", "y", "kid"}
    assert key.public_jwk["kty"] == "EC" and key.public_jwk["crv"] == "P-256"
    assert "PRIVATE" not in key.sealed_private  # sealed, not a PEM


def test_a_sealed_key_opens_only_with_its_secret() -> None:
    key = passes.new_key(SECRET)
    with pytest.raises(passes.PassError):
        passes.sign(key, "another secret", a_claims())


@pytest.mark.parametrize(
    ("case", "now"),
    [("expired", NOW + timedelta(days=7)), ("not valid yet", NOW - timedelta(days=2))],
)
def test_a_pass_outside_its_validity_is_refused(case: str, now: datetime) -> None:
    key = passes.new_key(SECRET)
    token = passes.sign(key, SECRET, a_claims())
    with pytest.raises(passes.PassError, match=case):
        passes.verify(token, [key.public_jwk], now)


def test_a_pass_signed_with_an_unknown_key_is_refused() -> None:
    signer, other = passes.new_key(SECRET), passes.new_key(SECRET)
    token = passes.sign(signer, SECRET, a_claims())
    with pytest.raises(passes.PassError):
        passes.verify(token, [other.public_jwk], NOW)


def test_rotated_keys_both_verify() -> None:
    old, new = passes.new_key(SECRET), passes.new_key(SECRET)
    keys = [old.public_jwk, new.public_jwk]
    for key in (old, new):
        assert passes.verify(passes.sign(key, SECRET, a_claims()), keys, NOW)["ini"] == "Z.W."


@given(position=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=5))
def test_any_tampered_character_is_refused(position: int, bit: int) -> None:
    key = KEY
    token = passes.sign(key, SECRET, a_claims())
    index = position % len(token)
    if token[index] == ".":
        return
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    flipped = alphabet[alphabet.index(token[index]) ^ (1 << bit)]
    tampered = token[:index] + flipped + token[index + 1 :]
    if [b64url(p) for p in tampered.split(".")] == [b64url(p) for p in token.split(".")]:
        return  # only the unused bits of the last base64 character changed
    with pytest.raises(passes.PassError):
        passes.verify(tampered, [key.public_jwk], NOW)


def test_a_missing_claim_is_not_signed() -> None:
    claims = a_claims()
    del claims["addr"]
    with pytest.raises(passes.PassError, match="addr"):
        passes.sign(passes.new_key(SECRET), SECRET, claims)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("张伟", "Z.W."),
        ("欧阳娜娜", "O.Y.N.N."),
        ("Anna Li", "A.L."),
        ("  李 明 ", "L.M."),
        ("김민준", "김."),
    ],
)
def test_initials(name: str, expected: str) -> None:
    assert passes.initials(name) == expected


THREE_PARTS = st.lists(st.text(max_size=60), min_size=3, max_size=3).map(".".join)


@given(st.text(max_size=300) | THREE_PARTS)
def test_any_garbage_is_refused_as_not_a_pass(token: str) -> None:
    with pytest.raises(passes.PassError):
        passes.verify(token, [KEY.public_jwk], NOW)
