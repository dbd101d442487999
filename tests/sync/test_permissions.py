"""The permission table of ``docs/sync.md``, role by role."""

from __future__ import annotations

import pytest

from sync import MemoryStore
from tests.sync.builders import (
    BUILDING_A,
    COMPOUND_A,
    COORD,
    GUARD_A,
    HOUSEHOLD_A,
    LEADER_A,
    MEDIC,
    RESIDENT_A,
    VOL_A,
    a_changeset,
    a_create,
    a_delete,
    an_actor,
    an_update,
    code_of,
    compound_fields,
    new_id,
    push,
)

ROLES = {"coordinator": COORD, "volunteer": VOL_A, "guard": GUARD_A, "team_leader": LEADER_A}
ROLES["clinician"] = MEDIC


def creates() -> dict[str, dict[str, object]]:
    """Return the fields of a valid create of each plain type, in compound A."""
    return {
        "compound": compound_fields("C"),
        "building": {"compound_id": COMPOUND_A, "name": "9号楼", "number": 9},
        "household": {
            "compound_id": COMPOUND_A,
            "building_id": BUILDING_A,
            "unit": "2",
            "floor": 3,
            "room": "301",
        },
        "resident": {"household_id": HOUSEHOLD_A, "name": "李明"},
        "visit": {"household_id": HOUSEHOLD_A, "outcome": "no_answer", "present": 0},
    }


#: type → roles that may create it (the table in docs/sync.md).
MAY_CREATE = {
    "compound": {"coordinator"},
    "building": {"coordinator"},
    "household": {"coordinator", "volunteer"},
    "resident": {"coordinator", "volunteer"},
    "visit": {"coordinator", "volunteer", "clinician"},
}


@pytest.mark.parametrize("role", sorted(ROLES))
@pytest.mark.parametrize("type_", sorted(MAY_CREATE))
def test_create_permissions(world: MemoryStore, role: str, type_: str) -> None:
    outcome = push(world, ROLES[role], a_changeset(a_create(type_, **creates()[type_])))
    assert code_of(outcome) == (None if role in MAY_CREATE[type_] else "forbidden")


@pytest.mark.parametrize(
    ("role", "code"),
    [
        ("coordinator", None),
        ("volunteer", None),
        ("clinician", None),
        ("guard", "forbidden"),
        ("team_leader", "forbidden"),
    ],
)
def test_resident_updates(world: MemoryStore, role: str, code: str | None) -> None:
    change = an_update(RESIDENT_A, type_="resident", needs=["elderly_alone", "chronic_medicine"])
    assert code_of(push(world, ROLES[role], a_changeset(change))) == code


@pytest.mark.parametrize("role", sorted(ROLES))
def test_only_coordinators_delete_residents(world: MemoryStore, role: str) -> None:
    outcome = push(world, ROLES[role], a_changeset(a_delete(RESIDENT_A, "resident")))
    assert code_of(outcome) == (None if role == "coordinator" else "forbidden")


def test_unknown_role_may_do_nothing(world: MemoryStore) -> None:
    stranger = an_actor("mayor", 99, everything=True)
    change = an_update(RESIDENT_A, type_="resident", name="x")
    assert code_of(push(world, stranger, a_changeset(change))) == "forbidden"


def test_resident_in_household_outside_scope_is_forbidden(world: MemoryStore) -> None:
    from tests.sync.builders import HOUSEHOLD_B

    change = a_create("resident", household_id=HOUSEHOLD_B, name="x")
    assert code_of(push(world, VOL_A, a_changeset(change))) == "forbidden"


def test_resident_of_unknown_household_is_invalid(world: MemoryStore) -> None:
    change = a_create("resident", household_id=new_id(), name="x")
    outcome = push(world, VOL_A, a_changeset(change))
    assert code_of(outcome) == "invalid"


def test_resident_takes_place_fields_from_household(world: MemoryStore) -> None:
    from tests.sync.builders import COMPOUND_B

    change = a_create("resident", household_id=HOUSEHOLD_A, name="x", compound_id=COMPOUND_B)
    outcome = push(world, VOL_A, a_changeset(change))
    (record,) = outcome.written
    assert record.fields["compound_id"] == COMPOUND_A
    assert record.fields["building_id"] == BUILDING_A
    assert record.scope.building_id == BUILDING_A
