"""Shared pass test vectors: ``tests/web/fixtures/pass_vectors.json``.

Tokens made by the server's signer (``server.passes``) for one compound with
two keys (an old one and the current one, as after a rotation), and the
problem a gate device must find with each: none for good passes, else
``malformed``, ``unknown_key``, ``bad_signature``, ``wrong_compound``,
``not_yet_valid``, ``expired`` or ``revoked`` (``sync.gate.PASS_PROBLEMS``).
``tests/server/test_pass_vectors.py`` checks them with an independent
verifier (``cryptography`` alone), ``tests/web/gate.test.js`` with the
device's WebCrypto code. Keys are random: regenerate only when the cases
change, with ``python -m tests.server.pass_vectors > tests/web/fixtures/pass_vectors.json``.
"""

from __future__ import annotations

import base64
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from server import passes

SECRET = "pass vectors are public test data, not a secret"
NOW = datetime(2022, 4, 2, 9, 0, tzinfo=UTC)
COMPOUND = "0d8b8e0e-5c2d-4a55-8f5e-3f0f1a9d2c11"
OTHER_COMPOUND = "7a1e55d2-3b6f-4c1e-9d0a-2b8c4e6f1a22"
REVOKED = "9b2d4f60-1c3e-4a5b-8d7f-0e1a2b3c4d5e"


def b64url(data: bytes) -> str:
    """Encode unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def claims(pid: str, **overrides: Any) -> dict[str, Any]:
    """Return the claims of a resident pass valid around ``NOW``."""
    values: dict[str, Any] = {
        "pid": pid,
        "cid": COMPOUND,
        "kind": "resident",
        "nbf": int((NOW - timedelta(days=1)).timestamp()),
        "exp": int((NOW + timedelta(days=6)).timestamp()),
        "ini": "Z.W.",
        "addr": "12-3-502",
    }
    values.update(overrides)
    return values


def vectors() -> dict[str, Any]:
    """Return the keys, the context and the cases."""
    old, current, stranger = (passes.new_key(SECRET) for _ in range(3))

    def signed(key: passes.PassKey, pid: str, **overrides: Any) -> str:
        return passes.sign(key, SECRET, claims(pid, **overrides))

    good = signed(current, "5a0c7e1e-0001-4000-8000-000000000001")
    header, payload, signature = good.split(".")
    forged_payload = b64url(
        json.dumps(claims("5a0c7e1e-0001-4000-8000-000000000001", addr="1-1-101")).encode()
    )
    flipped = bytearray(base64.urlsafe_b64decode(signature + "=="))
    flipped[10] ^= 1
    hour = 3600
    cases = [
        ("a current pass", good, None),
        (
            "a pass signed with the older key",
            signed(old, "5a0c7e1e-0002-4000-8000-000000000002"),
            None,
        ),
        ("not a JWS", "weiguang-pass", "malformed"),
        ("not base64url", f"{header}.{payload}.!!!", "malformed"),
        ("a payload that is not JSON", f"{header}.{b64url(b'not json')}.{signature}", "malformed"),
        (
            "an unknown key",
            signed(stranger, "5a0c7e1e-0003-4000-8000-000000000003"),
            "unknown_key",
        ),
        ("a changed address", f"{header}.{forged_payload}.{signature}", "bad_signature"),
        ("a changed signature", f"{header}.{payload}.{b64url(bytes(flipped))}", "bad_signature"),
        (
            "another compound's pass",
            signed(current, "5a0c7e1e-0004-4000-8000-000000000004", cid=OTHER_COMPOUND),
            "wrong_compound",
        ),
        (
            "a pass not valid yet",
            signed(
                current, "5a0c7e1e-0005-4000-8000-000000000005", nbf=claims("")["nbf"] + 2 * 86400
            ),
            "not_yet_valid",
        ),
        (
            "an expired pass",
            signed(
                current, "5a0c7e1e-0006-4000-8000-000000000006", exp=int(NOW.timestamp()) - hour
            ),
            "expired",
        ),
        ("a revoked pass", signed(current, REVOKED), "revoked"),
    ]
    return {
        "now": NOW.isoformat().replace("+00:00", "Z"),
        "compound_id": COMPOUND,
        "keys": [dict(old.public_jwk), dict(current.public_jwk)],
        "revoked": [REVOKED],
        "cases": [
            {"name": name, "token": token, "problem": problem} for name, token, problem in cases
        ],
    }


def main() -> None:
    """Print the vectors as JSON."""
    json.dump(vectors(), sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
