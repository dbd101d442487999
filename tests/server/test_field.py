"""Field work on the demo neighbourhood over HTTP: marks, positives, daily tasks, coverage.

Two volunteers marking one resident make one record and a kept loser; a
positive antigen mark makes an urgent task every role of the compound
sees, while the mark reaches carers only; the daily job makes each day's
check-in and garbage tasks once; the coverage and duty queries agree with
the records they count.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

from server import queries, seed
from server.clock import utcnow
from server.field import make_daily_tasks
from sync import volunteers
from sync.actors import UserScope
from sync.field import day_of
from sync.screening import check_in_task_id, garbage_task_id
from sync.testing import mark_id, positive_task_id
from sync.times import format_datetime
from sync.volunteers import Duty, duty_of
from tests.helpers import sign_in
from tests.server.test_sync_api import a_changeset, create, pull_all, push

COMPOUND_A = seed.stable_id("compound", "A")
HOUSEHOLD = seed.stable_id("household", "A", 12, 3, "502")
RESIDENT = seed.stable_id("resident", HOUSEHOLD, 0)
EVERYTHING = UserScope(everything=True)


def todays_round(client, token):
    """Return the id of today's open round in compound A, as vol-a pulls it."""
    records, _ = pull_all(client, token)
    (found,) = [r for r in records if r["type"] == "test_round"]
    assert found["fields"]["status"] == "open" and found["fields"]["compound_id"] == COMPOUND_A
    return found["id"]


def a_mark(round_id, outcome, **fields):
    """Return the create of the resident's mark in the round."""
    values = {"test_round_id": round_id, "resident_id": RESIDENT, "outcome": outcome, **fields}
    return create("test_result", values, mark_id(round_id, RESIDENT))


def test_two_volunteers_marking_one_resident_make_one_record_and_keep_the_loser(app, client):
    coord, vol = sign_in(client, "coord"), sign_in(client, "vol-a")
    round_id = todays_round(client, vol)
    late = a_changeset(a_mark(round_id, "tested"), made_at="2022-04-02T10:05:00.000Z")
    early = a_changeset(a_mark(round_id, "absent"), made_at="2022-04-02T10:00:00.000Z")
    assert push(client, vol, late, client_id="phone-1")["results"][0]["status"] == "applied"
    reply = push(client, coord, early, client_id="laptop")
    assert reply["results"][0]["changes"][0]["status"] == "merged"
    records, _ = pull_all(client, coord)
    marks = [
        r for r in records if r["type"] == "test_result" and r["fields"]["resident_id"] == RESIDENT
    ]
    assert [m["fields"]["outcome"] for m in marks] == ["tested"]
    lost = [
        r
        for r in records
        if r["type"] == "conflict" and r["fields"]["record_id"] == marks[0]["id"]
    ]
    assert any(c["fields"]["lost_value"] == "absent" for c in lost)


def test_a_positive_makes_an_urgent_task_seen_by_all_while_the_mark_reaches_carers(app, client):
    tokens = {user: sign_in(client, user) for user in ("vol-a", "guard-a", "leader-a", "coord")}
    round_id = todays_round(client, tokens["vol-a"])
    reply = push(client, tokens["vol-a"], a_changeset(a_mark(round_id, "antigen_positive")))
    assert reply["results"][0]["status"] == "applied", reply
    mark = mark_id(round_id, RESIDENT)
    for user, token in tokens.items():
        pulled = {r["id"]: r for r in pull_all(client, token)[0]}
        assert (mark in pulled) == (user in {"vol-a", "coord"}), user
        if user not in {"vol-a", "coord"}:
            continue  # who else gets tasks is the task type's declared visibility
        task = pulled[positive_task_id(mark)]["fields"]
        assert (task["priority"], task["household_id"], task["status"]) == (1, HOUSEHOLD, "open")
        assert "阳" not in str(task) and "antigen" not in str(task)


def test_a_mark_in_a_closed_round_is_round_closed(app, client):
    coord, vol = sign_in(client, "coord"), sign_in(client, "vol-a")
    round_id = todays_round(client, vol)
    records, _ = pull_all(client, coord)
    version = next(r["version"] for r in records if r["id"] == round_id)
    close = {
        "type": "test_round",
        "id": round_id,
        "op": "update",
        "base_version": version,
        "fields": {"status": "closed"},
    }
    assert push(client, coord, a_changeset(close))["results"][0]["status"] == "applied"
    change = push(client, vol, a_changeset(a_mark(round_id, "tested")))["results"][0]["changes"][0]
    assert change["conflict"]["code"] == "round_closed"


def test_the_daily_job_makes_the_days_tasks_once(app, runner):
    with app.app_context():
        day = day_of(utcnow()) + timedelta(days=1)
        made = make_daily_tasks(day)
        assert made > 0
        assert make_daily_tasks(day) == 0
        households = queries.live_records("household", EVERYTHING, [COMPOUND_A])
        one = households[0]
        unit_task = garbage_task_id(str(one.fields["building_id"]), str(one.fields["unit"]), day)
        assert queries.records_naming("task", "kind", "garbage", EVERYTHING)
        assert any(
            t.id == unit_task
            for t in queries.records_naming("task", "kind", "garbage", EVERYTHING)
        )
        residents = queries.live_records("resident", EVERYTHING, [COMPOUND_A])
        alone = {
            str(r.fields["household_id"])
            for r in residents
            if "elderly_alone" in r.fields["needs"]
        }
        check_ins = {t.id for t in queries.records_naming("task", "kind", "check_in", EVERYTHING)}
        assert {check_in_task_id(h, day) for h in alone} <= check_ins
    result = runner.invoke(args=["daily-tasks", "--date", day.isoformat()])
    assert result.exit_code == 0 and "Made 0 field tasks" in result.output


def test_screening_flags_elderly_alone_and_todays_check_in_appears(app, client):
    vol = sign_in(client, "vol-a")
    visit = create(
        "visit",
        {
            "household_id": HOUSEHOLD,
            "outcome": "answered",
            "present": 1,
            "needs": ["elderly_alone"],
        },
    )
    made_at = utcnow()
    reply = push(client, vol, a_changeset(visit, made_at=format_datetime(made_at)))
    assert reply["results"][0]["status"] == "applied", reply
    pulled = {r["id"]: r for r in pull_all(client, vol)[0]}
    # The check-in is of the visit's day (a second later may be the next day).
    task = pulled[check_in_task_id(HOUSEHOLD, day_of(made_at))]["fields"]
    assert task["kind"] == "check_in" and task["household_id"] == HOUSEHOLD
    assert pulled[visit["id"]]["fields"]["visited_by"] > 0


def test_testing_coverage_counts_each_resident_once_by_their_mark(app):
    with app.app_context():
        (round_,) = queries.live_records("test_round", EVERYTHING, [COMPOUND_A])
        coverage = queries.testing_coverage(round_.id, EVERYTHING)
        residents = queries.live_records("resident", EVERYTHING, [COMPOUND_A])
        marks = {
            str(m.fields["resident_id"]): m
            for m in queries.records_naming("test_result", "test_round_id", round_.id, EVERYTHING)
        }
    expected: dict[str, Counter] = {}
    for resident in residents:
        counts = expected.setdefault(str(resident.fields["building_id"]), Counter())
        counts["residents"] += 1
        mark = marks.get(resident.id)
        outcome = mark.fields["outcome"] if mark else "missing"
        counts["tested" if outcome.startswith("antigen") else outcome] += 1
        counts["positive"] += outcome == "antigen_positive"
        counts["needs_help"] += bool(mark and mark.fields.get("needs_registration_help"))
    assert len(coverage) == len(expected) == 14
    for row in coverage:
        want = expected[row.building_id]
        assert (row.residents, row.tested, row.absent, row.exempt, row.missing) == (
            want["residents"],
            want["tested"],
            want["absent"],
            want["exempt"],
            want["missing"],
        )
        assert (row.positive, row.needs_help) == (want["positive"], want["needs_help"])
    assert any(row.tested for row in coverage) and any(
        row.missing == row.residents for row in coverage
    )


def test_shifts_between_gives_the_shifts_under_way(app):
    with app.app_context():
        now = utcnow()
        under_way = queries.shifts_between(EVERYTHING, now, now)
        every = queries.shifts_between(
            EVERYTHING, now - timedelta(days=2), now + timedelta(days=2)
        )
        scoped = queries.shifts_between(UserScope(compound_ids=frozenset({COMPOUND_A})), now, now)
    assert len(every) == len(seed.VOLUNTEERS)
    assert {s.id for s in under_way} == {
        s.id for s in every if duty_of(s, now) in {Duty.ON_DUTY, Duty.MISSING}
    }
    assert all(s.fields["compound_id"] == COMPOUND_A for s in scoped)


def test_the_app_derives_sign_up_ids_in_the_servers_namespace():
    # web/app/volunteers/duty.js computes volunteer_id(user) itself (offline sign-up).
    source = Path("web/app/volunteers/duty.js").read_text(encoding="utf-8")
    assert f"'{volunteers.SIGN_UP_NAMESPACE}'" in source
    assert "`volunteer/${userId}`" in source and volunteers.volunteer_id(2) == str(
        uuid.uuid5(volunteers.SIGN_UP_NAMESPACE, "volunteer/2")
    )
