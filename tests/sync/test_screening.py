"""Screening visits and the daily field tasks: who visited, check-ins, garbage runs.

A visit is a fact: the server records who made it and when; flagging
``elderly_alone`` makes that day's check-in task for the household at once,
once however often it is flagged; the daily job makes a check-in per
elderly household and a garbage task per stairwell of a sealed compound,
under ids fixed by place and day.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from sync import MemoryStore, Record, view
from sync.field import day_of
from sync.records import Scope
from sync.screening import check_in_task_id, daily_tasks, garbage_task_id
from sync.times import format_datetime
from tests.sync.builders import (
    BUILDING_A,
    COMPOUND_A,
    COMPOUND_B,
    GUARD_A,
    HOUSEHOLD_A,
    LEADER_A,
    RECEIVED,
    T0,
    VOL_A,
    VOL_A2,
    a_changeset,
    a_create,
    an_update,
    code_of,
    push,
    stored,
)


def a_visit(**fields: object) -> object:
    """Return the create of a visit to household A."""
    values: dict[str, object] = {"household_id": HOUSEHOLD_A, "outcome": "answered", "present": 1}
    values.update(fields)
    return a_create("visit", **values)


def test_a_visit_records_who_and_when(world: MemoryStore) -> None:
    change = a_visit()
    assert code_of(push(world, VOL_A, a_changeset(change))) is None
    record = stored(world, change.id)  # type: ignore[attr-defined]
    assert record.fields["visited_by"] == VOL_A.user_id
    assert record.fields["visited_at"] == format_datetime(T0)  # the changeset's made_at
    assert (record.fields["compound_id"], record.fields["building_id"]) == (COMPOUND_A, BUILDING_A)


def test_a_visit_is_never_changed(world: MemoryStore) -> None:
    change = a_visit()
    push(world, VOL_A, a_changeset(change))
    later = an_update(change.id, type_="visit", notes="again")  # type: ignore[attr-defined]
    assert code_of(push(world, VOL_A, a_changeset(later))) == "immutable"


def test_flagging_elderly_alone_makes_todays_check_in_once(world: MemoryStore) -> None:
    task_id = check_in_task_id(HOUSEHOLD_A, day_of(T0))
    for actor in (VOL_A, VOL_A2):
        change = a_visit(needs=["elderly_alone", "chronic_medicine"])
        assert code_of(push(world, actor, a_changeset(change))) is None
    task = stored(world, task_id)
    assert task.fields["kind"] == "check_in" and task.fields["status"] == "open"
    assert task.fields["household_id"] == HOUSEHOLD_A
    assert task.fields["title"] == "独居老人问候：3号楼 1单元 502室"
    tomorrow = a_changeset(a_visit(needs=["elderly_alone"]), made_at=T0 + timedelta(days=1))
    push(world, VOL_A, tomorrow, at=RECEIVED + timedelta(days=1))
    assert world.get(check_in_task_id(HOUSEHOLD_A, day_of(T0) + timedelta(days=1))) is not None


def test_a_visit_without_the_flag_makes_no_task(world: MemoryStore) -> None:
    push(world, VOL_A, a_changeset(a_visit(needs=["pregnant"])))
    assert world.get(check_in_task_id(HOUSEHOLD_A, day_of(T0))) is None


def test_guards_never_receive_a_visit_and_team_leaders_no_needs(world: MemoryStore) -> None:
    change = a_visit(needs=["disability"], notes="轮椅")
    push(world, VOL_A, a_changeset(change))
    record = stored(world, change.id)  # type: ignore[attr-defined]
    assert view(record, GUARD_A) is None
    seen = view(record, LEADER_A)
    assert seen is not None and "needs" not in seen.fields and "notes" not in seen.fields


def test_the_neighbourhood_day_is_shanghai_time() -> None:
    late_utc = T0.replace(hour=17)  # 01:00 the next day in Shanghai
    assert day_of(late_utc) == date(2022, 3, 24)


def household(number: int, compound: str, unit: str, room: str) -> Record:
    """Return a household record (only its fields matter to the daily job)."""
    fields = {
        "compound_id": compound,
        "building_id": f"b{number}",
        "unit": unit,
        "floor": int(room[0]),
        "room": room,
    }
    scope = Scope(frozenset({compound}))
    return Record("household", f"h-{number}-{unit}-{room}", 1, False, fields, {}, scope)


HOMES = st.lists(
    st.builds(
        household,
        st.integers(1, 3),
        st.sampled_from([COMPOUND_A, COMPOUND_B]),
        st.sampled_from(["1", "2"]),
        st.sampled_from(["101", "102", "201"]),
    ),
    unique_by=lambda h: h.id,
)


@given(HOMES, st.data())
def test_the_daily_job_makes_one_check_in_per_elderly_home_and_one_run_per_sealed_stairwell(
    homes: list[Record], data: st.DataObject
) -> None:
    day = date(2022, 3, 28)
    elderly = frozenset(data.draw(st.sets(st.sampled_from([h.id for h in homes] or ["x"]))))
    names = {f"b{n}": f"{n}号楼" for n in range(1, 4)}
    made = daily_tasks(day, homes, names, frozenset({COMPOUND_A}), elderly)
    check_ins = {t.fields["household_id"] for t in made if t.fields["kind"] == "check_in"}
    assert check_ins == {h.id for h in homes if h.id in elderly}
    runs = {(t.fields["building_id"], t.id) for t in made if t.fields["kind"] == "garbage"}
    stairwells = {
        (h.fields["building_id"], h.fields["unit"])
        for h in homes
        if h.fields["compound_id"] == COMPOUND_A
    }
    assert runs == {(b, garbage_task_id(b, u, day)) for b, u in stairwells}
    assert len({t.id for t in made}) == len(made)
    again = daily_tasks(day, list(reversed(homes)), names, frozenset({COMPOUND_A}), elderly)
    assert {t.id for t in again} == {t.id for t in made}
    tomorrow = daily_tasks(day + timedelta(days=1), homes, names, frozenset({COMPOUND_A}), elderly)
    assert not {t.id for t in tomorrow} & {t.id for t in made}
