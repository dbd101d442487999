"""The shared pass vectors, checked by an independent ES256 verifier.

``cryptography`` alone (no joserfc, no server code) verifies each token as a
gate device does, in the order of ``sync.gate.PASS_PROBLEMS``; the node test
``tests/web/gate.test.js`` checks the device's WebCrypto code against the
same file.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature

from sync.gate import PASS_PROBLEMS
from sync.times import parse_datetime
from tests.server.test_passes import independent_verify

FIXTURE = Path(__file__).parents[1] / "web" / "fixtures" / "pass_vectors.json"
VECTORS = json.loads(FIXTURE.read_text(encoding="utf-8"))


def b64url(part: str) -> bytes:
    """Decode unpadded base64url strictly."""
    if not part or any(
        c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" for c in part
    ):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def problem_of(token: str, vectors: dict[str, Any], now: datetime) -> str | None:
    """Return what a gate device must find wrong with ``token`` (``None``: nothing)."""
    parts = token.split(".")
    try:
        header, claims = (json.loads(b64url(part)) for part in parts[:2])
        assert len(parts) == 3 and len(b64url(parts[2])) == 64
    except (ValueError, AssertionError, binascii.Error):
        return "malformed"
    keys = [key for key in vectors["keys"] if key["kid"] == header.get("kid")]
    if not keys:
        return "unknown_key"
    try:
        independent_verify(token, keys[0])
    except InvalidSignature:
        return "bad_signature"
    seconds = now.timestamp()
    for problem, failed in (
        ("wrong_compound", claims["cid"] != vectors["compound_id"]),
        ("not_yet_valid", seconds < claims["nbf"]),
        ("expired", seconds >= claims["exp"]),
        ("revoked", claims["pid"] in vectors["revoked"]),
    ):
        if failed:
            return problem
    return None


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda case: case["name"])
def test_each_vector_has_the_problem_it_names(case: dict[str, Any]) -> None:
    assert problem_of(case["token"], VECTORS, parse_datetime(VECTORS["now"])) == case["problem"]


def test_the_vectors_cover_every_problem_and_good_passes_of_both_keys() -> None:
    problems = {case["problem"] for case in VECTORS["cases"]}
    assert problems == {*PASS_PROBLEMS, None}
    good = [case["token"] for case in VECTORS["cases"] if case["problem"] is None]
    kids = {json.loads(b64url(token.split(".")[0]))["kid"] for token in good}
    assert kids == {key["kid"] for key in VECTORS["keys"]}
