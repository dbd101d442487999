"""Gate pass cryptography: compound keys, signing and checking pass tokens.

A pass token is a JWS compact serialization (RFC 7515) signed with ``ES256``
(ECDSA on P-256 with SHA-256, RFC 7518 §3.4: the signature is the raw 64-byte
``r || s``), with the protected header ``{"alg": "ES256", "kid": ...}`` and the
claims pinned in ``sync-contract.md`` ("Gate passes"). JOSE is done by
``joserfc`` and the curve by ``cryptography``: no hand-written crypto.

A compound's private keys never leave the server and are stored encrypted
(Fernet, keyed from the app's secret by HKDF-SHA256), so a copy of the
database alone cannot forge passes. Public keys are published as JWKs
(RFC 7517) in ``compound.pass_keys``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet
from pypinyin import Style, lazy_pinyin

ALGORITHM = "ES256"
#: The claims every pass carries (contract, "Gate passes").
CLAIMS = ("pid", "cid", "kind", "nbf", "exp", "ini", "addr")
_HKDF_INFO = b"weiguang gate pass keys v1"
#: Initials kept at most (a long name still fits the QR and the sheet).
MAX_INITIALS = 4


class PassError(ValueError):
    """A token that is not a valid pass for the keys given (the reason in words)."""


@dataclass(frozen=True, slots=True)
class PassKey:
    """One signing key of a compound.

    :param kid: the key id named in each token's header.
    :param public_jwk: the public key as a JWK (``kty``, ``crv``, ``x``, ``y``, ``kid``).
    :param sealed_private: the private key as a PEM, encrypted with :func:`seal`.
    """

    kid: str
    public_jwk: Mapping[str, str]
    sealed_private: str


def new_key(secret: str) -> PassKey:
    """Make a new P-256 key, its private part sealed with ``secret``."""
    key = ECKey.generate_key("P-256", private=True)
    public = key.as_dict(private=False)
    kid = _thumbprint_kid(public)
    pem = key.as_pem(private=True)
    jwk = {"kty": "EC", "crv": "P-256", "x": public["x"], "y": public["y"], "kid": kid}
    return PassKey(kid, jwk, seal(secret, pem))


def sign(key: PassKey, secret: str, claims: Mapping[str, Any]) -> str:
    """Return the JWS compact token for ``claims``, signed with ``key``.

    :raises PassError: a pinned claim is missing.
    """
    missing = [name for name in CLAIMS if name not in claims]
    if missing:
        raise PassError(f"missing claims: {', '.join(missing)}")
    private = ECKey.import_key(unseal(secret, key.sealed_private))
    header = {"alg": ALGORITHM, "kid": key.kid}
    payload = _compact_json(claims)
    return jws.serialize_compact(header, payload, private, algorithms=[ALGORITHM])


def verify(token: str, public_jwks: Iterable[Mapping[str, str]], now: datetime) -> dict[str, Any]:
    """Check ``token`` against a compound's public keys; return its claims.

    Checks what a guard's device checks before policy: the signature, a known
    key, and ``nbf <= now < exp``.

    :raises PassError: malformed, unknown key, bad signature, not yet valid or expired.
    """
    keys = KeySet.import_key_set({"keys": [dict(jwk) for jwk in public_jwks]})
    try:
        obj = jws.deserialize_compact(token, keys, algorithms=[ALGORITHM])
    except (JoseError, ValueError) as error:
        raise PassError(f"not a valid pass: {error}") from None
    claims = _loads(obj.payload)
    seconds = now.timestamp()
    if not isinstance(claims.get("nbf"), int) or not isinstance(claims.get("exp"), int):
        raise PassError("not a valid pass: nbf and exp must be integers")
    if seconds < claims["nbf"]:
        raise PassError("not valid yet")
    if seconds >= claims["exp"]:
        raise PassError("expired")
    return claims


def initials(name: str) -> str:
    """Return a resident's initials for the pass (``张伟`` → ``Z.W.``, ``Anna Li`` → ``A.L.``).

    Chinese characters are read in pinyin (``pypinyin``); a word in another
    script gives its first letter (``김민준`` → ``김.``). Nothing else of the
    name reaches the pass.
    """
    letters = []
    for part in lazy_pinyin(name.strip(), style=Style.FIRST_LETTER, errors="default"):
        for word in part.split():
            first = next((char for char in word if char.isalpha()), None)
            if first is not None:
                letters.append(first.upper())
    return "".join(f"{letter}." for letter in letters[:MAX_INITIALS])


def seal(secret: str, plain: bytes) -> str:
    """Encrypt ``plain`` with a Fernet key derived from ``secret``."""
    return _fernet(secret).encrypt(plain).decode("ascii")


def unseal(secret: str, sealed: str) -> bytes:
    """Decrypt what :func:`seal` made.

    :raises PassError: the secret is not the one the key was sealed with.
    """
    try:
        return _fernet(secret).decrypt(sealed.encode("ascii"))
    except InvalidToken:
        raise PassError("the pass key cannot be read with this secret key") from None


def _fernet(secret: str) -> Fernet:
    """Derive the Fernet key that seals pass keys from the app's secret."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        secret.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _thumbprint_kid(public: Mapping[str, Any]) -> str:
    """Return a short key id from the key's RFC 7638 thumbprint."""
    members = {"crv": public["crv"], "kty": "EC", "x": public["x"], "y": public["y"]}
    canonical = _compact_json(members)
    digest = hashlib.sha256(canonical).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")[:16]


def _compact_json(value: Mapping[str, Any]) -> bytes:
    """Serialise ``value`` as compact, key-sorted UTF-8 JSON (keeps QR codes small)."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def _loads(payload: bytes) -> dict[str, Any]:
    """Parse a token's payload, which must be a JSON object."""
    try:
        claims = json.loads(payload)
    except ValueError:
        raise PassError("not a valid pass: the payload is not JSON") from None
    if not isinstance(claims, dict):
        raise PassError("not a valid pass: the payload is not an object")
    return claims
