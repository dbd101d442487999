"""Who receives what: closed by default, sync policies, rule-owned fields.

One function (:func:`sync.visibility.view`) decides for pulls, live events
and ``conflict.record``; each test here drives all three where they apply.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from sync import Actor, MemoryStore, Record, Role, changes_since, view_for
from sync import fields as f
from sync.catalog import REGISTRY
from sync.policy import Matching, Recent
from sync.records import FieldStamp, Scope
from sync.registry import Permissions, RecordType, Visibility
from sync.scoping import compound_field
from sync.times import format_datetime
from tests.sync.builders import (
    COMPOUND_A,
    COMPOUND_B,
    COORD,
    GUARD_A,
    LEADER_A,
    MEDIC,
    RECEIVED,
    T0,
    VOL_A,
    a_changeset,
    a_create,
    an_update,
    code_of,
    new_id,
    only,
    push,
    stored,
)

ALL_ACTORS = (COORD, VOL_A, GUARD_A, LEADER_A, MEDIC)


def put_raw(store: MemoryStore, type_name: str, fields: dict[str, object]) -> Record:
    """Store a record directly, as data written before its type was declared."""
    version = store.next_version()
    stamps = dict.fromkeys(fields, FieldStamp(version, T0, 0))
    record = Record(
        type_name, new_id(), version, False, fields, stamps, Scope(frozenset({COMPOUND_A}))
    )
    store.put(record, None)
    return record


def pulled(world: MemoryStore, actor: Actor, **kwargs: object) -> dict[str, Record]:
    """Return everything ``actor`` pulls from 0, by id."""
    page = changes_since(world, actor, 0, 1000, **kwargs)  # type: ignore[arg-type]
    assert not page.more
    return {record.id: record for record in page.records}


def test_an_undeclared_type_reaches_nobody(world: MemoryStore) -> None:
    stray = put_raw(world, "undeclared_type", {"compound_id": COMPOUND_A, "post": "north"})
    for actor in ALL_ACTORS:
        assert stray.id not in pulled(world, actor)
        assert view_for(actor, stray) is None


def test_a_type_without_an_audience_reaches_nobody(world: MemoryStore) -> None:
    closed = RecordType(
        name="shift",
        fields={"compound_id": f.Ref("compound")},
        required=frozenset({"compound_id"}),
        permissions=Permissions(create=frozenset(Role)),
        scope=compound_field,
    )
    registry = {**REGISTRY, "shift": closed}
    made = a_create("shift", compound_id=COMPOUND_A)
    assert code_of(push(world, VOL_A, a_changeset(made), registry=registry)) is None
    for actor in ALL_ACTORS:
        assert made.id not in pulled(world, actor, registry=registry)
        assert view_for(actor, stored(world, made.id), registry=registry) is None


def test_a_stored_field_the_type_does_not_declare_reaches_nobody(world: MemoryStore) -> None:
    stray = put_raw(
        world, "task", {"compound_id": COMPOUND_A, "kind": "delivery", "title": "x", "secret": "s"}
    )
    for actor in ALL_ACTORS:
        seen = pulled(world, actor)[stray.id]
        assert "secret" not in seen.fields and "secret" not in seen.stamps
        live = view_for(actor, stray)
        assert live is not None and "secret" not in live.fields


def test_conflict_record_in_a_push_result_goes_through_the_same_view(world: MemoryStore) -> None:
    stray = put_raw(world, "notice", {"compound_ids": [COMPOUND_A], "published": False})
    outcome = push(world, VOL_A, a_changeset(an_update(stray.id, type_="notice", pinned=True)))
    conflict = only(outcome).changes[0].conflict
    assert conflict is not None and conflict.record is None  # a draft: coordinators only
    outcome = push(world, GUARD_A, a_changeset(an_update(stray.id, type_="notice", pinned=True)))
    conflict = only(outcome).changes[0].conflict
    assert conflict is not None and conflict.record is None


def seeded_supplies(world: MemoryStore) -> dict[str, str]:
    """Push a round, a package and a published notice as a coordinator; return their ids."""
    round_ = a_create(
        "supply_round",
        compound_ids=[COMPOUND_A],
        title="第一轮",
        opens_at="2022-04-03T00:00:00Z",
        cutoff_at="2022-04-03T04:00:00Z",
        delivers_at="2022-04-03T09:00:00Z",
    )
    package = a_create(
        "package", supply_round_id=round_.id, name="蔬菜包", price_cents=8800, stock=400
    )
    notice = a_create(
        "notice",
        compound_ids=[COMPOUND_A],
        title={"zh-CN": "通知"},
        body={"zh-CN": "明早核酸"},
        published=True,
    )
    draft = a_create(
        "notice", compound_ids=[COMPOUND_A], title={"zh-CN": "草稿"}, body={"zh-CN": "…"}
    )
    outcome = push(world, COORD, a_changeset(round_, package, notice, draft))
    assert only(outcome).status == "applied", only(outcome).to_wire()
    return {"round": round_.id, "package": package.id, "notice": notice.id, "draft": draft.id}


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (COORD, {"round", "package", "notice", "draft"}),
        (VOL_A, {"round", "package", "notice"}),
        (LEADER_A, {"round", "package", "notice"}),
        (GUARD_A, {"notice"}),
        (MEDIC, {"notice"}),
    ],
)
def test_seeded_kinds_reach_the_roles_that_need_them(
    world: MemoryStore, actor: Actor, expected: set[str]
) -> None:
    ids = seeded_supplies(world)
    got = pulled(world, actor)
    assert {name for name, record_id in ids.items() if record_id in got} == expected
    for name, record_id in ids.items():
        assert (view_for(actor, stored(world, record_id)) is not None) == (name in expected)


def test_team_leaders_make_rounds_in_their_scope_only(world: MemoryStore) -> None:
    times = {
        "opens_at": "2022-04-03T00:00:00Z",
        "cutoff_at": "2022-04-03T04:00:00Z",
        "delivers_at": "2022-04-03T09:00:00Z",
    }
    mine = a_create("supply_round", compound_ids=[COMPOUND_A], **times)
    assert code_of(push(world, LEADER_A, a_changeset(mine))) is None
    wider = a_create("supply_round", compound_ids=[COMPOUND_A, COMPOUND_B], **times)
    assert code_of(push(world, LEADER_A, a_changeset(wider))) == "forbidden"
    notice = a_create(
        "notice", compound_ids=[COMPOUND_A], title={"zh-CN": "x"}, body={"zh-CN": "y"}
    )
    assert code_of(push(world, LEADER_A, a_changeset(notice))) == "forbidden"


def test_rule_owned_fields_are_set_on_create_and_never_by_an_update(world: MemoryStore) -> None:
    ids = seeded_supplies(world)
    package = ids["package"]
    outcome = push(world, COORD, a_changeset(an_update(package, type_="package", stock=999)))
    assert code_of(outcome) == "forbidden"
    assert only(outcome).changes[0].conflict.field == "stock"  # type: ignore[union-attr]
    assert stored(world, package).fields["stock"] == 400
    renamed = push(world, COORD, a_changeset(an_update(package, type_="package", name="菜包")))
    assert code_of(renamed) is None


def test_rule_owned_fields_are_not_merged_by_later_edit_wins() -> None:
    assert "stock" in REGISTRY["package"].merge_exempt
    assert {"status", "assignee_id"} <= REGISTRY["task"].merge_exempt


# A type with sync policies, as the gate types will have: guards get passes
# only, coordinators the last week of events.
GATE_LOG = RecordType(
    name="gate_event",
    fields={
        "compound_id": f.Ref("compound"),
        "kind": f.Enum(("pass", "event")),
        "at": f.DateTime(),
    },
    required=frozenset({"compound_id", "kind", "at"}),
    permissions=Permissions(create=frozenset(Role)),
    scope=compound_field,
    visibility=Visibility(roles=frozenset({Role.GUARD, Role.COORDINATOR})),
    sync_policy={Role.GUARD: Matching("kind", ("pass",)), Role.COORDINATOR: Recent("at", 7)},
)
WITH_GATE = {**REGISTRY, "gate_event": GATE_LOG}
NOW = RECEIVED


def gate_records(world: MemoryStore) -> dict[str, str]:
    """Push a pass, a fresh event and an old event; return their ids."""
    made = {
        "pass": a_create(
            "gate_event", compound_id=COMPOUND_A, kind="pass", at=format_datetime(NOW)
        ),
        "fresh": a_create(
            "gate_event",
            compound_id=COMPOUND_A,
            kind="event",
            at=format_datetime(NOW - timedelta(days=1)),
        ),
        "old": a_create(
            "gate_event",
            compound_id=COMPOUND_A,
            kind="event",
            at=format_datetime(NOW - timedelta(days=30)),
        ),
    }
    outcome = push(world, COORD, a_changeset(*made.values()), registry=WITH_GATE)
    assert only(outcome).status == "applied"
    return {name: change.id for name, change in made.items()}


@pytest.mark.parametrize(
    ("actor", "expected"),
    [(GUARD_A, {"pass"}), (COORD, {"pass", "fresh"}), (VOL_A, set())],
)
def test_sync_policy_narrows_pulls_and_live_events_alike(
    world: MemoryStore, actor: Actor, expected: set[str]
) -> None:
    ids = gate_records(world)
    got = pulled(world, actor, registry=WITH_GATE, now=NOW)
    assert {name for name, record_id in ids.items() if record_id in got} == expected
    for name, record_id in ids.items():
        live = view_for(actor, stored(world, record_id), registry=WITH_GATE, now=NOW)
        assert (live is not None) == (name in expected)


def test_a_policy_never_holds_back_a_tombstone(world: MemoryStore) -> None:
    ids = gate_records(world)
    gone = replace(stored(world, ids["old"]), deleted=True)
    assert view_for(COORD, gone, registry=WITH_GATE, now=NOW) is not None
