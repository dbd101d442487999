"""The port through which the engine has gate passes signed.

Issuing a pass is a kind rule (:mod:`sync.gate`), but signing needs the
compound's private key, which only the server holds (contract, "Gate
passes"). The engine asks a :class:`Signer` the server provides, passed to
:func:`sync.protocol.apply_push` and on to each :class:`sync.registry.ChangeContext`;
a push without one cannot issue passes (``invalid``). An engine test passes
an in-memory twin (``tests/sync/signers.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol


class Signer(Protocol):
    """Signs pass claims with a compound's current key and names its public keys."""

    def sign(self, compound_id: str, claims: Mapping[str, object]) -> str:
        """Return the JWS compact token (RFC 7515, ``ES256``) of ``claims``.

        Signed with the compound's newest key, made on first use.
        """

    def public_keys(self, compound_id: str) -> Sequence[Mapping[str, str]]:
        """Return the compound's public JWKs, oldest first (``compound.pass_keys``)."""

    def initials(self, name: str) -> str:
        """Return the initials a pass shows for ``name`` (``张伟`` → ``Z.W.``)."""

    def live_passes(self, resident_id: str, kind: str) -> Sequence[str]:
        """Return the ids of the resident's unrevoked passes of ``kind``, as committed."""
