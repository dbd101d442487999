"""The server's side of gate passes: the compounds' keys, and the engine's signer.

The engine issues a pass in its kind rules (:mod:`sync.gate`) and asks the
:class:`sync.signing.Signer` port to sign it; :class:`KeyringSigner` is that
port here: keys in the ``pass_key`` table, private parts sealed with the
app's secret (:mod:`server.passes`), the newest key of a compound signing
and all of them published in ``compound.pass_keys``. ``weiguang
rotate-pass-key COMPOUND`` adds a key (:func:`rotate`): passes signed with
an older one stay valid until they expire or are revoked (contract, "Gate
passes").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from server import live, passes, queries
from server.clock import utcnow
from server.extensions import db
from server.models import PassKeyRow
from server.store import SqlStore, rerun_races
from sync.actors import UserScope
from sync.protocol import PushOutcome
from sync.records import SERVER_USER_ID, FieldStamp, Record

EVERYWHERE = UserScope(everything=True)


class KeyringSigner:
    """Sign with the compounds' keys in the database (one instance per request).

    A compound's first pass makes its first key. Keys are read once per
    instance: a seeding push signs thousands of passes.
    """

    def __init__(self, secret: str) -> None:
        self._secret = secret
        self._keys: dict[str, list[PassKeyRow]] = {}

    def sign(self, compound_id: str, claims: Mapping[str, object]) -> str:
        """Return the token of ``claims`` signed with the compound's newest key."""
        newest = self._rows(compound_id)[-1]
        key = passes.PassKey(newest.kid, newest.public_jwk, newest.sealed_private)
        return passes.sign(key, self._secret, claims)

    def public_keys(self, compound_id: str) -> Sequence[Mapping[str, str]]:
        """Return the compound's public JWKs, oldest first."""
        return [row.public_jwk for row in self._rows(compound_id)]

    def initials(self, name: str) -> str:
        """Return a name's initials (:func:`server.passes.initials`)."""
        return passes.initials(name)

    def live_passes(self, resident_id: str, kind: str) -> Sequence[str]:
        """Return the ids of the resident's committed, unrevoked passes of ``kind``."""
        found = queries.records_naming("gate_pass", "resident_id", resident_id, EVERYWHERE)
        return [
            record.id
            for record in found
            if record.fields.get("kind") == kind and record.fields.get("revoked") is not True
        ]

    def _rows(self, compound_id: str) -> list[PassKeyRow]:
        rows = self._keys.get(compound_id)
        if rows is None:
            rows = keys_of(compound_id) or [add_key(compound_id, self._secret)]
            self._keys[compound_id] = rows
        return rows


def signer() -> KeyringSigner:
    """Return a signer for this request or command, with the app's secret."""
    return KeyringSigner(current_app.config["SECRET_KEY"])


def keys_of(compound_id: str) -> list[PassKeyRow]:
    """Return a compound's keys, oldest first."""
    statement = select(PassKeyRow).where(PassKeyRow.compound_id == compound_id)
    return list(db.session.scalars(statement.order_by(PassKeyRow.id)))


def add_key(compound_id: str, secret: str) -> PassKeyRow:
    """Make a new key for a compound (it signs from now on); flushed, not committed."""
    key = passes.new_key(secret)
    row = PassKeyRow(
        compound_id=compound_id,
        kid=key.kid,
        public_jwk=dict(key.public_jwk),
        sealed_private=key.sealed_private,
        created_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    return row


class UnknownCompound(LookupError):
    """No live compound has the id or name given."""


def rotate(compound: str) -> PassKeyRow:
    """Add a signing key to a compound and publish it in ``compound.pass_keys``; commit.

    :param compound: the compound's id or its name.
    :raises UnknownCompound: no live compound is called so.
    """
    received_at = utcnow()
    db.session.commit()

    def run() -> tuple[PassKeyRow, Record, int]:
        store = SqlStore.for_writing(received_at=received_at)
        record = find_compound(compound)
        row = add_key(record.id, current_app.config["SECRET_KEY"])
        keys = [key.public_jwk for key in keys_of(record.id)]
        current = store.get(record.id)
        assert current is not None
        updated = with_pass_keys(current, keys, store.next_version(), received_at)
        store.put(updated, None)
        store.flush()
        db.session.commit()
        return row, updated, store.started_at_version

    row, updated, prev = rerun_races(run)
    live.announce(PushOutcome((), updated.version, [updated]), prev)
    return row


def with_pass_keys(
    compound: Record, keys: list[Mapping[str, str]], version: int, at: datetime
) -> Record:
    """Return the compound's next version with ``pass_keys`` set, stamped as the server's."""
    stamp = FieldStamp(version, at, SERVER_USER_ID)
    return replace(
        compound,
        version=version,
        fields={**compound.fields, "pass_keys": [dict(key) for key in keys]},
        stamps={**compound.stamps, "pass_keys": stamp},
    )


def find_compound(compound: str) -> Record:
    """Return the live compound with id or name ``compound``.

    A name may be given by the letter in brackets that ends it (``A`` for
    ``陇南一村（A）``).

    :raises UnknownCompound: there is none, or the name is not unique.
    """
    compounds = queries.every_live("compound")
    candidates = [
        record
        for record in compounds
        if compound in (record.id, record.fields.get("name"))
        or str(record.fields.get("name", "")).endswith(f"（{compound}）")
    ]
    if len(candidates) != 1:
        raise UnknownCompound(compound)
    return candidates[0]
