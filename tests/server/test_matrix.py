"""The role-and-scope matrix, read side: every role × record type × way out, from the declarations.

A world of one record of every declared type (``tests/matrix.py``; types
that features add later are in it without an edit here) is written into
compound A and compound B of the seeded demo and announced live. Then, for
every demo user (one of each role; vol-b of compound B):

- pull and the live event bring each world record exactly when the
  declarations say (in scope, the type's audience names the role, the
  role's sync policy admits it), with exactly the declared fields;
- no answer of any endpoint — the pull, the live events, every export in
  CSV, every GET of the API with the world's ids in its path — carries a
  marker of a field the user may not receive (a phone, an ID number, a
  health need, a medicine: whatever the declarations keep from the role);
- every endpoint that names the roles it serves (``require_auth``) answers
  403 ``forbidden-role`` to exactly the other roles, and 401 without a token.

Which roles a type or field reaches is itself checked against the
contract's Privacy rules (:data:`PRIVACY`). Each check that passes is
counted into the reliability ledger.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask

from server import backup, clock, live, scopes, seed
from server.clock import utcnow
from server.extensions import db, socketio
from server.models import AttachmentRow, User
from server.store import SqlStore
from sync.actors import Actor
from sync.attachments import KINDS
from sync.catalog import REGISTRY
from sync.exports import DATASETS
from sync.protocol import PushOutcome
from sync.pull import changes_since
from sync.records import Record, StoredFields
from tests import reliability
from tests.conftest import make_app
from tests.helpers import bearer, sign_in
from tests.matrix import build_world, declared_view, forbidden_markers
from tests.server.test_sync_api import pull_all

USERNAMES = ("coord", "vol-a", "vol-b", "guard-a", "leader-a", "medic")
#: The contract's Privacy rules: role → type → the fields it never receives ("*": the type).
PRIVACY: dict[str, dict[str, set[str]]] = {
    "guard": {
        "resident": {"phone", "birth_year", "needs", "id_number_masked"},
        "visit": {"*"},
        "test_result": {"*"},
        "med_request": {"*"},
    },
    "team_leader": {
        "resident": {"needs", "id_number_masked"},
        "visit": {"needs"},
        "med_request": {"*"},
    },
}


@pytest.fixture(scope="module")
def ledger() -> reliability.Row:
    return reliability.record(reliability.Row("role-and-scope matrix: reads", "sqlite"))


class Matrix:
    """The demo users, their sockets, and the worlds written for them."""

    def __init__(self, app: Flask, client: Any) -> None:
        self.app, self.client = app, client
        self.tokens = {name: sign_in(client, name) for name in USERNAMES}
        with app.app_context():
            users = {
                u.username: u for u in db.session.query(User).filter(User.username.in_(USERNAMES))
            }
            self.actors: dict[str, Actor] = {n: scopes.actor_for(users[n]) for n in USERNAMES}
            db.session.remove()
        self.sockets = {
            name: socketio.test_client(app, flask_test_client=client, auth={"token": token})
            for name, token in self.tokens.items()
        }
        self.worlds: dict[str, dict[str, Record]] = {}

    def write_worlds(self) -> None:
        """Write a world into compounds A and B in one commit, and announce it."""
        owners = {"volunteer": self.actors["vol-a"].user_id}
        owners |= {a.role: a.user_id for n, a in self.actors.items() if n != "vol-b"}
        with self.app.app_context():
            store = SqlStore.for_writing()
            now = utcnow()
            for letter in "AB":
                existing = {"compound": seed.stable_id("compound", letter)}
                world = build_world(letter, existing, owners, now, store.next_version)
                for record in world.values():
                    store.put(record, None)
                self.worlds[letter] = world
            store.flush()
            db.session.commit()
            written = sorted(
                (r for w in self.worlds.values() for r in w.values()), key=lambda r: r.version
            )
            live.announce(PushOutcome((), written[-1].version, written), store.started_at_version)
            db.session.remove()
        self.now = now

    def forbidden(self, name: str) -> set[str]:
        """Return the markers user ``name`` may not receive."""
        actor = self.actors[name]
        return set().union(
            *(forbidden_markers(w, letter, actor, self.now) for letter, w in self.worlds.items())
        )

    def expected(self, name: str, record: Record, live: bool) -> set[str] | None:
        """Return the fields of ``record`` user ``name`` receives, ``None`` if not the record.

        A live event goes to a room of all users of one role and scope, for
        whom a per-user policy (``Own``) admits nothing: those records reach
        their owner by pull (``docs/sync.md``, medicine requests).
        """
        actor = self.actors[name]
        if not actor.sees(record.scope):
            return None
        return declared_view(record, actor.role, 0 if live else actor.user_id, self.now)


@pytest.fixture
def matrix(app, client) -> Matrix:
    return Matrix(app, client)


@pytest.fixture
def matrix_on_both(database_url: str) -> Iterator[Matrix]:
    """A :class:`Matrix` on the seeded demo, once on SQLite and once on PostgreSQL."""
    app = make_app(database_url)
    yield Matrix(app, app.test_client())
    with app.app_context():
        db.engine.dispose()


def write_strays(matrix: Matrix) -> None:
    """Write records beside compound A's world that a pull must not send as stored.

    A task holding a field its type does not declare, a resident whose name
    holds a surrogate (on SQLite an unpaired one, stored before the push
    boundary refused them; PostgreSQL's jsonb takes only pairs), a deleted
    task, and a task moved from compound A to B (a tombstone for A's users).
    """
    task, resident = matrix.worlds["A"]["task"], matrix.worlds["A"]["resident"]
    with matrix.app.app_context():
        store = SqlStore.for_writing()
        sqlite = db.session.get_bind().dialect.name == "sqlite"

        def new(record: Record, **changes: Any) -> Record:
            return replace(record, id=str(uuid.uuid4()), version=store.next_version(), **changes)

        store.put(new(task, fields={**task.fields, "secret": "stray-secret"}), None)
        store.put(
            new(resident, fields={**resident.fields, "name": "王\udc80" if sqlite else "王😀"}),
            None,
        )
        store.put(new(task, deleted=True), None)
        moved = new(task)
        store.put(moved, None)
        store.flush()
        store.put(
            replace(moved, version=store.next_version(), scope=matrix.worlds["B"]["task"].scope),
            moved.scope,
        )
        store.flush()
        db.session.commit()
        db.session.remove()


def test_a_pull_answers_every_role_the_records_parsed_and_viewed(matrix_on_both, monkeypatch):
    """A pull answers, stored text spliced in, the contract's envelope of every record viewed.

    Every role × every declared type (the worlds), and the records that must
    not go out as stored (:func:`write_strays`), page by page: the answer
    equals ``Page.to_wire()`` of :func:`sync.pull.changes_since` (each
    record parsed, viewed and encoded again) as the app's JSON provider
    encodes it, keys in the same order.
    """
    matrix = matrix_on_both
    matrix.write_worlds()
    write_strays(matrix)
    monkeypatch.setattr(clock, "utcnow", lambda: matrix.now)  # the same time-window policies
    spliced = 0
    for name in USERNAMES:
        cursor, more = 0, True
        while more:
            reply = matrix.client.get(
                f"/api/v1/sync/pull?cursor={cursor}&limit=40", headers=bearer(matrix.tokens[name])
            )
            assert reply.status_code == 200 and reply.mimetype == "application/json"
            got = json.loads(reply.get_data(as_text=True))
            with matrix.app.app_context():
                page = changes_since(
                    SqlStore.for_reading(), matrix.actors[name], cursor, 40, now=matrix.now
                )
                wire = {**page.to_wire(), "epoch": backup.epoch(), "grants": []}
                expected = json.loads(matrix.app.json.dumps(wire))  # as the app encodes it
                db.session.remove()
            assert json.dumps(got) == json.dumps(expected), f"{name} from {cursor}"
            assert "stray-secret" not in reply.get_data(as_text=True)
            spliced += sum(type(record.fields) is StoredFields for record in page.records)
            cursor, more = got["cursor"], got["more"]
    assert spliced  # the spliced path was taken, not only the encoded one


def leaks(text: str, forbidden: set[str]) -> list[str]:
    lowered = text.lower()
    return sorted(token for token in forbidden if token in lowered)


def check_delivery(
    matrix: Matrix, name: str, got: dict[str, Any], how: str, ledger: reliability.Row
) -> None:
    """Assert that ``got`` (id → envelope) holds each world record exactly as declared."""
    for letter, world in matrix.worlds.items():
        for record in world.values():
            expected = matrix.expected(name, record, live=how == "live event")
            received = got.get(record.id)
            what = f"{name} ({matrix.actors[name].role}) by {how}: {record.type} of {letter}"
            if expected is None:
                assert received is None or received["deleted"], f"{what}: not theirs, received"
            else:
                assert received is not None, f"{what}: declared theirs, not received"
                assert set(received["fields"]) == expected, f"{what}: fields"
            ledger.scope_checks += 1


def test_pull_and_live_events_bring_each_role_what_is_declared(matrix, ledger):
    for socket in matrix.sockets.values():
        socket.get_received()
    matrix.write_worlds()
    for name in USERNAMES:
        events = [e for e in matrix.sockets[name].get_received() if e["name"] == "changes"]
        live_records = {r["id"]: r for e in events for r in e["args"][0]["changes"]}
        pulled = {r["id"]: r for r in pull_all(matrix.client, matrix.tokens[name])[0]}
        check_delivery(matrix, name, live_records, "live event", ledger)
        check_delivery(matrix, name, pulled, "pull", ledger)
        forbidden = matrix.forbidden(name)
        for how, text in (("pull", json.dumps(pulled)), ("live", json.dumps(events))):
            assert not leaks(text, forbidden), f"{name}'s {how} leaks"
            ledger.scope_checks += 1


def get_routes(app: Flask):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and "GET" in rule.methods:
            yield rule


def fill(rule: str, arguments: Any, value: str) -> str:
    """Return ``rule`` with every path argument set to ``value``."""
    for arg in arguments:
        rule = rule.replace(f"<{arg}>", value)
    return rule


def test_no_endpoint_or_export_hands_a_role_what_it_may_not_see(matrix, ledger):
    matrix.write_worlds()
    sample = [r.id for w in matrix.worlds.values() for r in w.values()]
    for name in USERNAMES:
        forbidden = matrix.forbidden(name)
        role = matrix.actors[name].role
        headers = bearer(matrix.tokens[name])
        for dataset in DATASETS.values():
            reply = matrix.client.get(f"/api/v1/exports/{dataset.name}.csv", headers=headers)
            assert (reply.status_code == 403) == (role not in dataset.roles), (name, dataset.name)
            assert not leaks(reply.get_data(as_text=True), forbidden), (name, dataset.name)
            ledger.scope_checks += 2
        for rule in get_routes(matrix.app):
            urls = [rule.rule]
            if rule.arguments:
                urls = [fill(rule.rule, rule.arguments, value) for value in sample]
            for url in urls:
                for query in ("", "?cursor=0&limit=1000"):
                    # Bytes as text: a binary answer (a printed pass sheet) is scanned as is.
                    body = matrix.client.get(url + query, headers=headers).get_data()
                    text = body.decode("utf-8", "replace")
                    assert not leaks(text, forbidden), f"{url}{query} leaks to {name}"
                    ledger.scope_checks += 1


#: The assignment's table of photos (issues 10.3, 12.5): kind → the roles that see a
#: record's photo in their scope, and the record's field naming the one user who does too.
PHOTO_READERS = {
    "task_proof": ({"coordinator"}, "assignee_id"),
    "prescription": ({"coordinator", "clinician"}, "requested_by"),
}


def test_a_photo_reaches_exactly_the_roles_and_holder_its_kind_names(matrix, ledger):
    matrix.write_worlds()
    photos = {}
    with matrix.app.app_context():
        for world in matrix.worlds.values():
            for kind in KINDS.values():
                record = world[kind.record_type]
                photo_id = str(uuid.uuid4())
                db.session.add(
                    AttachmentRow(
                        id=photo_id,
                        kind=kind.name,
                        record_id=record.id,
                        content_type="image/jpeg",
                        byte_count=len(photo_id),
                        sha256="0" * 64,
                        data=photo_id.encode(),
                        uploaded_by=matrix.actors["coord"].user_id,
                        created_at=matrix.now,
                    )
                )
                photos[photo_id] = (kind.name, record)
        db.session.commit()
        db.session.remove()
    assert set(PHOTO_READERS) == set(KINDS)
    outcomes = set()
    for name in USERNAMES:
        actor = matrix.actors[name]
        for photo_id, (kind, record) in photos.items():
            roles, holder = PHOTO_READERS[kind]
            field_seen = KINDS[kind].field in (matrix.expected(name, record, live=False) or ())
            theirs = actor.role in roles or record.fields.get(holder) == actor.user_id
            reply = matrix.client.get(
                f"/api/v1/attachments/{photo_id}", headers=bearer(matrix.tokens[name])
            )
            listed = matrix.client.get(
                f"/api/v1/attachments?record_id={record.id}", headers=bearer(matrix.tokens[name])
            )
            got = reply.status_code == 200 and reply.data == photo_id.encode()
            in_list = listed.status_code == 200 and photo_id in listed.get_data(as_text=True)
            assert got == in_list == (field_seen and theirs), (name, kind, record.id)
            outcomes.add((kind, got))
            ledger.scope_checks += 2
    assert outcomes == {(kind, seen) for kind in KINDS for seen in (True, False)}


#: Views whose roles depend on the path (checked by the test of exports above).
ROLES_BY_ARGUMENT = {"exports.export"}
#: Path arguments that must name something real for the view to reach its role check.
PATH_VALUES = {"dataset": "orders", "fmt": "csv"}


def guarded_views(app: Flask):
    """Yield (rule, method, roles) for every view ``require_auth`` guards."""
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        roles = getattr(view, "required_roles", None)
        if roles is None or rule.endpoint in ROLES_BY_ARGUMENT:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method, roles


def test_every_guarded_endpoint_refuses_exactly_the_roles_it_does_not_name(matrix, ledger):
    checked = 0
    for rule, method, roles in guarded_views(matrix.app):
        url = rule.rule
        for arg in rule.arguments:
            url = url.replace(f"<{arg}>", PATH_VALUES.get(arg, seed.stable_id("supply_round", 1)))
        anonymous = matrix.client.open(url, method=method, json={})
        assert anonymous.status_code == 401, (method, url)
        for name in USERNAMES:
            if url.endswith("/logout"):
                continue  # it would end the session the matrix signs in with
            role = matrix.actors[name].role
            reply = matrix.client.open(
                url, method=method, json={}, headers=bearer(matrix.tokens[name])
            )
            refused = reply.status_code == 403 and reply.get_json()["type"].endswith(
                "forbidden-role"
            )
            assert refused == bool(roles and role not in roles), (
                method,
                url,
                name,
                reply.status_code,
            )
            checked += 1
            ledger.scope_checks += 1
    assert checked >= len(USERNAMES) * 4


@pytest.mark.parametrize("role", sorted(PRIVACY))
def test_the_declarations_keep_the_contracts_privacy_rules(role):
    for type_name, hidden in PRIVACY[role].items():
        rtype = REGISTRY.get(type_name)
        if rtype is None:
            continue  # not declared yet: it reaches nobody
        if "*" in hidden:
            assert role not in rtype.visibility.roles, type_name
        else:
            assert not hidden & rtype.readable.get(role, frozenset()), type_name
