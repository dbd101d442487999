"""Volunteers' sign-up and shifts: own records, own shifts, who is on duty.

A volunteer signs up under their account's id and may change only their own
sign-up and report arriving on their own shift; their devices receive only
their own; phone numbers reach coordinators only.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from sync import MemoryStore, view
from sync.volunteers import Duty, duty_of, volunteer_id
from tests.sync.builders import (
    COMPOUND_A,
    COORD,
    GUARD_A,
    T0,
    VOL_A,
    VOL_A2,
    a_changeset,
    a_create,
    an_update,
    code_of,
    new_id,
    push,
    stored,
)

MINE = volunteer_id(VOL_A.user_id)


def sign_up(world: MemoryStore, actor: object = VOL_A, record_id: str | None = None) -> str:
    """Push a sign-up and return its id."""
    change = a_create(
        "volunteer",
        record_id or volunteer_id(actor.user_id),  # type: ignore[attr-defined]
        compound_id=COMPOUND_A,
        name="周杰",
        phone="13900000000",
        skills=["translator", "driver"],
        languages=["zh", "en"],
        team="3号楼突击队",
    )
    assert code_of(push(world, actor, a_changeset(change))) is None  # type: ignore[arg-type]
    return change.id


def a_shift(volunteer: str, **fields: object) -> object:
    """Return the create of today's shift at the west gate."""
    values: dict[str, object] = {
        "volunteer_id": volunteer,
        "compound_id": COMPOUND_A,
        "post": "西门",
        "starts_at": "2022-03-23T07:00:00+08:00",
        "ends_at": "2022-03-23T19:00:00+08:00",
    }
    values.update(fields)
    return a_create("shift", **values)


def test_a_volunteer_signs_up_as_themselves(world: MemoryStore) -> None:
    record = stored(world, sign_up(world))
    assert record.fields["user_id"] == VOL_A.user_id
    other = a_create("volunteer", new_id(), compound_id=COMPOUND_A, name="冒名")
    assert code_of(push(world, VOL_A, a_changeset(other))) == "invalid"


def test_a_volunteer_changes_only_their_own_sign_up(world: MemoryStore) -> None:
    sign_up(world)
    sign_up(world, VOL_A2)
    mine = an_update(MINE, type_="volunteer", skills=["medic"])
    assert code_of(push(world, VOL_A, a_changeset(mine))) is None
    theirs = an_update(volunteer_id(VOL_A2.user_id), type_="volunteer", team="x")
    assert code_of(push(world, VOL_A, a_changeset(theirs))) == "not_found"
    moved = an_update(MINE, type_="volunteer", user_id=VOL_A2.user_id)
    assert code_of(push(world, VOL_A, a_changeset(moved))) == "forbidden"


def test_coordinators_plan_shifts_copying_the_account(world: MemoryStore) -> None:
    sign_up(world)
    shift = a_shift(MINE)
    assert code_of(push(world, VOL_A, a_changeset(a_shift(MINE)))) == "forbidden"
    assert code_of(push(world, COORD, a_changeset(shift))) is None
    assert stored(world, shift.id).fields["user_id"] == VOL_A.user_id  # type: ignore[attr-defined]


def test_a_shift_ends_after_it_starts(world: MemoryStore) -> None:
    sign_up(world)
    wrong = a_shift(MINE, ends_at="2022-03-23T06:00:00+08:00")
    assert code_of(push(world, COORD, a_changeset(wrong))) == "invalid"


def test_a_volunteer_reports_arriving_on_their_own_shift_only(world: MemoryStore) -> None:
    sign_up(world)
    sign_up(world, VOL_A2)
    mine, theirs = a_shift(MINE), a_shift(volunteer_id(VOL_A2.user_id))
    push(world, COORD, a_changeset(mine, theirs))
    arrive = "2022-03-23T06:55:00+08:00"
    ok = an_update(mine.id, type_="shift", arrived_at=arrive)  # type: ignore[attr-defined]
    assert code_of(push(world, VOL_A, a_changeset(ok))) is None
    no = an_update(theirs.id, type_="shift", arrived_at=arrive)  # type: ignore[attr-defined]
    assert code_of(push(world, VOL_A, a_changeset(no))) == "not_found"
    post = an_update(mine.id, type_="shift", post="东门")  # type: ignore[attr-defined]
    assert code_of(push(world, VOL_A, a_changeset(post))) == "forbidden"


def test_volunteers_receive_their_own_records_and_no_phones(world: MemoryStore) -> None:
    sign_up(world)
    theirs = sign_up(world, VOL_A2)
    shift = a_shift(MINE)
    push(world, COORD, a_changeset(shift))
    own = view(stored(world, MINE), VOL_A)
    assert own is not None and "phone" not in own.fields
    assert view(stored(world, theirs), VOL_A) is None
    assert view(stored(world, shift.id), VOL_A) is not None  # type: ignore[attr-defined]
    assert view(stored(world, shift.id), VOL_A2) is None  # type: ignore[attr-defined]
    coordinator = view(stored(world, MINE), COORD)
    assert coordinator is not None and coordinator.fields["phone"] == "13900000000"
    assert view(stored(world, MINE), GUARD_A) is None


@pytest.mark.parametrize(
    ("hours", "arrived", "duty"),
    [
        (-1, False, Duty.UPCOMING),
        (1, False, Duty.MISSING),
        (1, True, Duty.ON_DUTY),
        (13, True, Duty.OVER),
    ],
)
def test_duty_of_a_shift(world: MemoryStore, hours: int, arrived: bool, duty: Duty) -> None:
    sign_up(world)
    shift = a_shift(MINE, arrived_at="2022-03-22T23:00:00Z" if arrived else None)
    push(world, COORD, a_changeset(shift))
    starts = T0.replace(hour=23) - timedelta(days=1)  # 07:00 in Shanghai on the 23rd
    record = stored(world, shift.id)  # type: ignore[attr-defined]
    assert duty_of(record, starts + timedelta(hours=hours)) is duty
