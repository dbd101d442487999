"""The gate's record types: issuing and revoking passes, the log, visitors, the policy.

Contract, "Gate passes" and Privacy; ``sync.gate``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from sync import MemoryStore, view
from sync.gate import default_rules, policy_id
from sync.times import format_datetime
from tests.sync.builders import (
    BUILDING_A,
    COMPOUND_A,
    COMPOUND_B,
    COORD,
    GUARD_A,
    HOUSEHOLD_A,
    RECEIVED,
    RESIDENT_A,
    T0,
    VOL_A,
    a_changeset,
    a_create,
    a_delete,
    an_actor,
    an_update,
    code_of,
    new_id,
    only,
    push,
    stored,
)
from tests.sync.signers import MemorySigner

GUARD_A2 = an_actor("guard", 9, (COMPOUND_A,))
UNTIL = format_datetime(T0 + timedelta(days=30))


@pytest.fixture
def signer(world: MemoryStore) -> MemorySigner:
    """Return the signer of the world's pushes."""
    return MemorySigner(world)


def issue(
    world: MemoryStore, signer: MemorySigner, kind: str = "resident", by: object = COORD
) -> str:
    """Issue a pass for resident A; return its id."""
    create = a_create("gate_pass", resident_id=RESIDENT_A, kind=kind, valid_until=UNTIL)
    outcome = push(world, by, a_changeset(create), signer=signer)  # type: ignore[arg-type]
    assert code_of(outcome) is None, only(outcome).to_wire()
    return create.id


def claims_of(token: object) -> dict[str, object]:
    """Return the claims the memory signer wrote into a token."""
    assert isinstance(token, str)
    return json.loads(token.split(".", 1)[1])


def test_issuing_signs_the_pinned_claims_and_fills_what_the_server_owns(
    world: MemoryStore, signer: MemorySigner
) -> None:
    record = stored(world, issue(world, signer))
    claims = claims_of(record.fields["token"])
    assert claims == {
        "pid": record.id,
        "cid": COMPOUND_A,
        "kind": "resident",
        "nbf": int(T0.timestamp()),
        "exp": int((T0 + timedelta(days=30)).timestamp()),
        "ini": "王.",
        "addr": "3-1-502",
    }
    assert record.fields["compound_id"] == COMPOUND_A
    assert record.fields["valid_from"] == format_datetime(T0)
    assert record.fields["revoked"] is False
    assert (record.fields["initials"], record.fields["address"]) == ("王.", "3-1-502")


def test_the_token_carries_no_name_phone_or_health(
    world: MemoryStore, signer: MemorySigner
) -> None:
    token = str(stored(world, issue(world, signer)).fields["token"])
    resident = stored(world, RESIDENT_A).fields
    for private in ("王秀英", resident["phone"], "elderly_alone", "1941"):
        assert str(private) not in token


def test_a_compounds_public_keys_reach_its_record(
    world: MemoryStore, signer: MemorySigner
) -> None:
    issue(world, signer)
    assert stored(world, COMPOUND_A).fields["pass_keys"] == signer.public_keys(COMPOUND_A)


def test_after_a_rotation_new_passes_name_the_new_key_and_the_old_one_stays_published(
    world: MemoryStore, signer: MemorySigner
) -> None:
    first = issue(world, signer)
    signer.rotate(COMPOUND_A)
    second = issue(world, signer, kind="worker")
    kids = [key["kid"] for key in stored(world, COMPOUND_A).fields["pass_keys"]]  # type: ignore[attr-defined]
    assert len(kids) == 2
    assert str(stored(world, first).fields["token"]).startswith(kids[0] + ".")
    assert str(stored(world, second).fields["token"]).startswith(kids[1] + ".")
    assert stored(world, first).fields["revoked"] is False


def test_issuing_revokes_the_previous_pass_of_the_same_kind_only(
    world: MemoryStore, signer: MemorySigner
) -> None:
    old = issue(world, signer)
    medical = issue(world, signer, kind="medical_exit")
    new = issue(world, signer)
    assert stored(world, old).fields["revoked"] is True
    assert stored(world, new).fields["revoked"] is False
    assert stored(world, medical).fields["revoked"] is False


def test_without_a_signer_no_pass_is_issued(world: MemoryStore) -> None:
    create = a_create("gate_pass", resident_id=RESIDENT_A, kind="resident", valid_until=UNTIL)
    assert code_of(push(world, COORD, a_changeset(create))) == "invalid"


def test_a_pass_must_end_after_it_is_issued(world: MemoryStore, signer: MemorySigner) -> None:
    past = format_datetime(T0 - timedelta(minutes=1))
    create = a_create("gate_pass", resident_id=RESIDENT_A, kind="resident", valid_until=past)
    assert code_of(push(world, COORD, a_changeset(create), signer=signer)) == "invalid"


@pytest.mark.parametrize("gone", ["household", "building"])
def test_no_pass_is_issued_to_a_resident_whose_home_is_gone(
    world: MemoryStore, signer: MemorySigner, gone: str
) -> None:
    home = stored(world, HOUSEHOLD_A if gone == "household" else BUILDING_A)
    world.put(replace(home, deleted=True, fields={}), None)
    create = a_create("gate_pass", resident_id=RESIDENT_A, kind="resident", valid_until=UNTIL)
    conflict = only(push(world, COORD, a_changeset(create), signer=signer)).changes[0].conflict
    assert conflict is not None and conflict.code == "invalid"
    assert conflict.field == "resident_id" and "home is unknown" in conflict.detail
    assert world.get(create.id) is None


@pytest.mark.parametrize("actor", [GUARD_A, VOL_A])
def test_only_coordinators_issue_passes(
    world: MemoryStore, signer: MemorySigner, actor: object
) -> None:
    create = a_create("gate_pass", resident_id=RESIDENT_A, kind="resident", valid_until=UNTIL)
    outcome = push(world, actor, a_changeset(create), signer=signer)  # type: ignore[arg-type]
    assert code_of(outcome) == "forbidden"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"token": "forged"}, "forbidden"),
        ({"valid_until": format_datetime(T0 + timedelta(days=300))}, "forbidden"),
        ({"initials": "X."}, "forbidden"),
    ],
)
def test_a_coordinator_changes_nothing_of_a_pass_but_revoked(
    world: MemoryStore, signer: MemorySigner, fields: dict[str, object], code: str
) -> None:
    pass_id = issue(world, signer)
    outcome = push(world, COORD, a_changeset(an_update(pass_id, type_="gate_pass", **fields)))
    assert code_of(outcome) == code


def test_revoking_is_final(world: MemoryStore, signer: MemorySigner) -> None:
    pass_id = issue(world, signer)
    revoke = an_update(pass_id, type_="gate_pass", revoked=True)
    assert code_of(push(world, COORD, a_changeset(revoke))) is None
    restore = an_update(pass_id, 99, type_="gate_pass", revoked=False)
    assert code_of(push(world, COORD, a_changeset(restore))) == "immutable"


def an_event(**fields: object) -> object:
    """Return the create of a gate event at the west gate of compound A."""
    values = {
        "compound_id": COMPOUND_A,
        "post": "西门",
        "direction": "out",
        "decision": "deny",
        "reason": "tier_forbids",
        "pass_id": new_id(),
        "temperature_c": 36.55,
        "policy_version": 7,
    }
    values.update(fields)
    return a_create("gate_event", **values)


def test_a_gate_event_records_its_guard_and_device_time(world: MemoryStore) -> None:
    event = an_event()
    assert code_of(push(world, GUARD_A, a_changeset(event))) is None  # type: ignore[arg-type]
    fields = stored(world, event.id).fields  # type: ignore[attr-defined]
    assert fields["guard_id"] == GUARD_A.user_id
    assert fields["scanned_at"] == format_datetime(T0)
    assert fields["temperature_c"] == round(36.55, 1)


@pytest.mark.parametrize("op", ["update", "delete"])
def test_a_gate_event_is_never_changed(world: MemoryStore, op: str) -> None:
    event = an_event()
    push(world, GUARD_A, a_changeset(event))  # type: ignore[arg-type]
    event_id = event.id  # type: ignore[attr-defined]
    change = (
        an_update(event_id, type_="gate_event", post="东门")
        if op == "update"
        else a_delete(event_id, type_="gate_event")
    )
    assert code_of(push(world, COORD, a_changeset(change))) == "immutable"


@pytest.mark.parametrize("temperature", [29.9, 45.1, "37", True, float("nan")])
def test_a_temperature_must_be_a_body_temperature(world: MemoryStore, temperature: object) -> None:
    event = an_event(temperature_c=temperature)
    assert code_of(push(world, GUARD_A, a_changeset(event))) == "invalid"  # type: ignore[arg-type]


def test_a_guard_logs_nothing_for_another_compound(world: MemoryStore) -> None:
    event = an_event(compound_id=COMPOUND_B)
    assert code_of(push(world, GUARD_A, a_changeset(event))) == "forbidden"  # type: ignore[arg-type]


def a_visitor(**fields: object) -> object:
    """Return the create of a courier visiting household A."""
    values = {
        "compound_id": COMPOUND_A,
        "post": "西门",
        "name": "刘师傅",
        "phone": "13912345678",
        "purpose": "courier",
        "host_household_id": HOUSEHOLD_A,
    }
    values.update(fields)
    return a_create("visitor", **values)


def test_a_visitor_is_seen_by_coordinators_and_the_guard_who_registered_them(
    world: MemoryStore,
) -> None:
    visitor = a_visitor()
    assert code_of(push(world, GUARD_A, a_changeset(visitor))) is None  # type: ignore[arg-type]
    record = stored(world, visitor.id)  # type: ignore[attr-defined]
    assert record.fields["registered_by"] == GUARD_A.user_id
    assert record.fields["arrived_at"] == format_datetime(T0)
    assert view(record, COORD) is not None
    assert view(record, GUARD_A, now=RECEIVED) is not None
    assert view(record, GUARD_A2, now=RECEIVED) is None
    assert view(record, VOL_A) is None


def test_a_guard_cannot_touch_another_guards_visitor(world: MemoryStore) -> None:
    visitor = a_visitor()
    push(world, GUARD_A, a_changeset(visitor))  # type: ignore[arg-type]
    leave = an_update(visitor.id, type_="visitor", left_at=format_datetime(RECEIVED))  # type: ignore[attr-defined]
    assert code_of(push(world, GUARD_A2, a_changeset(leave))) == "not_found"
    assert code_of(push(world, GUARD_A, a_changeset(leave))) is None


def a_policy_create(compound_id: str = COMPOUND_A, record_id: str | None = None) -> object:
    """Return the create of a compound's gate policy."""
    return a_create(
        "gate_policy",
        record_id or policy_id(compound_id),
        compound_id=compound_id,
        rules=default_rules(),
        window_opens="06:00",
        window_closes="20:00",
    )


def test_a_policy_takes_its_compounds_tier_and_follows_it(world: MemoryStore) -> None:
    push(world, COORD, a_changeset(a_policy_create()))  # type: ignore[arg-type]
    policy = stored(world, policy_id(COMPOUND_A))
    assert policy.fields["tier"] == "controlled"
    change = an_update(COMPOUND_A, 99, type_="compound", tier="sealed")
    assert code_of(push(world, COORD, a_changeset(change))) is None
    after = stored(world, policy_id(COMPOUND_A))
    assert after.fields["tier"] == "sealed" and after.version > policy.version


def test_a_compound_has_one_policy(world: MemoryStore) -> None:
    outcome = push(world, COORD, a_changeset(a_policy_create(record_id=new_id())))  # type: ignore[arg-type]
    assert code_of(outcome) == "invalid"


def test_guards_read_the_policy_but_do_not_write_it(world: MemoryStore) -> None:
    assert code_of(push(world, GUARD_A, a_changeset(a_policy_create()))) == "forbidden"  # type: ignore[arg-type]
    push(world, COORD, a_changeset(a_policy_create()))  # type: ignore[arg-type]
    assert view(stored(world, policy_id(COMPOUND_A)), GUARD_A) is not None


def test_the_tier_of_a_policy_is_changed_only_through_the_compound(world: MemoryStore) -> None:
    push(world, COORD, a_changeset(a_policy_create()))  # type: ignore[arg-type]
    change = an_update(policy_id(COMPOUND_A), type_="gate_policy", tier="precaution")
    assert code_of(push(world, COORD, a_changeset(change))) == "forbidden"


def test_a_device_cannot_publish_pass_keys(world: MemoryStore) -> None:
    keys = [{"kty": "EC", "crv": "P-256", "x": "x", "y": "y", "kid": "forged"}]
    change = an_update(COMPOUND_A, type_="compound", pass_keys=keys)
    assert code_of(push(world, COORD, a_changeset(change))) == "forbidden"


def test_a_guard_receives_passes_events_and_policy_but_no_personal_data(
    world: MemoryStore, signer: MemorySigner
) -> None:
    pass_id = issue(world, signer)
    seen = view(stored(world, pass_id), GUARD_A, now=RECEIVED)
    assert seen is not None and "token" in seen.fields
    resident = view(stored(world, RESIDENT_A), GUARD_A)
    assert resident is not None
    assert {"phone", "birth_year", "needs", "id_number_masked"}.isdisjoint(resident.fields)
