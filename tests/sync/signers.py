"""An in-memory twin of the server's pass signer (``sync.signing.Signer``).

Engine tests need what the port answers, not real cryptography (the server's
signer and the tokens themselves are tested in ``tests/server``): a "token"
here is the claims as JSON after the signing key's id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from sync import MemoryStore


def a_jwk(kid: str) -> dict[str, str]:
    """Return a public JWK shaped like the server's (the numbers are not a key)."""
    return {"kty": "EC", "crv": "P-256", "x": f"x-{kid}", "y": f"y-{kid}", "kid": kid}


class MemorySigner:
    """Sign by writing the claims down; remember what was signed for whom."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.keys: dict[str, list[dict[str, str]]] = {}
        self.signed: list[Mapping[str, object]] = []

    def sign(self, compound_id: str, claims: Mapping[str, object]) -> str:
        kid = self.public_keys(compound_id)[-1]["kid"]
        self.signed.append(dict(claims))
        return f"{kid}.{json.dumps(dict(claims), sort_keys=True)}"

    def public_keys(self, compound_id: str) -> Sequence[Mapping[str, str]]:
        return self.keys.setdefault(compound_id, [a_jwk(f"{compound_id[:4]}-1")])

    def rotate(self, compound_id: str) -> None:
        """Add a key, as ``weiguang rotate-pass-key`` does."""
        keys = self.keys.setdefault(compound_id, [])
        keys.append(a_jwk(f"{compound_id[:4]}-{len(keys) + 1}"))

    def initials(self, name: str) -> str:
        return "".join(f"{part[0].upper()}." for part in name.split())

    def live_passes(self, resident_id: str, kind: str) -> Sequence[str]:
        issued = [claims["pid"] for claims in self.signed if claims["kind"] == kind]
        found = [self.store.get(str(pid)) for pid in issued]
        return [
            record.id
            for record in found
            if record is not None
            and record.fields.get("resident_id") == resident_id
            and record.fields.get("revoked") is not True
        ]
