"""The server makes a round's delivery tasks by itself at the cut-off.

On the demo round (cut-off 2022-04-03 04:00 UTC): the job (what every
``weiguang serve`` process runs, and ``weiguang round-deliveries`` from cron)
makes nothing before the cut-off, one task per unit after it, a follow-up for
an order confirmed once its unit's task was claimed, and the done tasks'
proof delivers the orders. Two processes running it at once on PostgreSQL
make each task once; a served process makes them without being asked.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from server import seed, supplies
from server.clock import utcnow
from server.extensions import db
from server.store import SqlStore
from sync.supplies import delivery_task_id, order_id
from sync.times import format_datetime, parse_datetime
from tests.conftest import make_app
from tests.helpers import sign_in
from tests.server.test_supplies import (
    AFTER_CUTOFF,
    IN_WINDOW,
    ROUND,
    VEG,
    an_order,
    by_id,
    household,
)
from tests.server.test_sync_api import a_changeset, create, pull_all, push, update
from tests.servers import ServedApp

BUILDING_9 = seed.stable_id("building", "A", 9)


def place_and_confirm(client, rooms: dict[str, bool]) -> None:
    """Have vol-a order for building 9's ``rooms`` by proxy, and leader-a confirm those marked."""
    volunteer, leader = sign_in(client, "vol-a"), sign_in(client, "leader-a")
    targets = [household(9, room) for room in rooms]
    reply = push(
        client,
        volunteer,
        a_changeset(*(an_order(t, "proxy", veg=1) for t in targets), made_at=IN_WINDOW),
    )
    confirms = [
        update("order", order_id(ROUND, t), change["version"], status="confirmed", phoned=True)
        for t, change, confirmed in zip(
            targets, reply["results"][0]["changes"], rooms.values(), strict=True
        )
        if confirmed
    ]
    assert push(client, leader, a_changeset(*confirms, made_at=AFTER_CUTOFF))["results"][0][
        "status"
    ] == ("applied")


def carry(client, token: str, task_id: str, proof: str) -> None:
    """Have the volunteer of ``token`` claim, start and finish a task with ``proof``."""
    for status, extra in (("claimed", {}), ("in_progress", {}), ("done", {"proof": proof})):
        version = by_id(pull_all(client, token)[0])[task_id]["version"]
        move = update("task", task_id, version, status=status, **extra)
        assert push(client, token, a_changeset(move))["results"][0]["status"] == "applied"


def test_the_job_makes_unit_tasks_at_the_cutoff_and_their_proof_delivers(app, client):
    place_and_confirm(client, {"101": True, "602": True, "301": False})
    with app.app_context():
        assert supplies.make_due_deliveries(parse_datetime(IN_WINDOW)) == 0
        assert supplies.make_due_deliveries(parse_datetime(AFTER_CUTOFF)) == 1
        assert supplies.make_due_deliveries(parse_datetime(AFTER_CUTOFF)) == 0
    first = delivery_task_id(ROUND, BUILDING_9, "1")
    volunteer, leader = sign_in(client, "vol-a"), sign_in(client, "leader-a")
    version = by_id(pull_all(client, volunteer)[0])[first]["version"]
    claim = update("task", first, version, status="claimed")
    assert push(client, volunteer, a_changeset(claim))["results"][0]["status"] == "applied"
    # 301 is confirmed after the unit's task was claimed: it gets the unit's next task.
    late = order_id(ROUND, household(9, "301"))
    version = by_id(pull_all(client, leader)[0])[late]["version"]
    confirm = update("order", late, version, status="confirmed", phoned=True)
    push(client, leader, a_changeset(confirm, made_at=AFTER_CUTOFF))
    with app.app_context():
        assert supplies.make_due_deliveries(parse_datetime(AFTER_CUTOFF) + timedelta(hours=6)) == 1
    follow_up = delivery_task_id(ROUND, BUILDING_9, "1", 1)
    tasks = by_id(pull_all(client, volunteer)[0])
    assert tasks[first]["fields"]["order_ids"] == [
        order_id(ROUND, household(9, room)) for room in ("101", "602")
    ]
    assert tasks[follow_up]["fields"]["order_ids"] == [late]
    assert tasks[follow_up]["fields"]["notes"] == "301室：蔬菜包（8种）×1"
    carry(client, volunteer, first, "门口签收")
    carry(client, volunteer, follow_up, "取货码 4821")
    records = by_id(pull_all(client, leader)[0])
    assert [
        records[order_id(ROUND, household(9, room))]["fields"]["status"]
        for room in ("101", "602", "301")
    ] == ["delivered"] * 3


def test_a_turn_reads_the_round_again_only_when_its_orders_or_given_back_tasks_moved(
    app, client, monkeypatch
):
    place_and_confirm(client, {"101": True, "602": False})
    reads: list[str] = []
    decide = supplies._delivery_changes

    def counted(round_, scope, looked=None):
        reads.append(round_.id)
        return decide(round_, scope, looked)

    monkeypatch.setattr(supplies, "_delivery_changes", counted)
    after = parse_datetime(AFTER_CUTOFF)
    with app.app_context():
        turns = [supplies.make_due_deliveries(after) for _ in range(5)]
    # Made, then two full turns find nothing and settle, then turns are skipped.
    assert turns == [1, 0, 0, 0, 0]
    settled = len(reads)
    with app.app_context():
        assert supplies.make_due_deliveries(after) == 0
    assert len(reads) == settled
    leader = sign_in(client, "leader-a")
    late = order_id(ROUND, household(9, "602"))
    version = by_id(pull_all(client, leader)[0])[late]["version"]
    confirm = update("order", late, version, status="confirmed", phoned=True)
    push(client, leader, a_changeset(confirm, made_at=AFTER_CUTOFF))
    with app.app_context():
        assert supplies.make_due_deliveries(after) == 1
    assert len(reads) > settled


def test_round_deliveries_is_the_same_step_for_cron(app, client, monkeypatch):
    place_and_confirm(client, {"101": True})
    runner = app.test_cli_runner()
    monkeypatch.setattr(supplies, "utcnow", lambda: parse_datetime(AFTER_CUTOFF))
    made = runner.invoke(args=["round-deliveries"])
    assert made.exit_code == 0, made.output
    assert "Created or updated 1 delivery tasks." in made.output
    again = runner.invoke(args=["round-deliveries"])
    assert "Created or updated 0 delivery tasks." in again.output
    with app.app_context():
        task = SqlStore.for_reading().get(delivery_task_id(ROUND, BUILDING_9, "1"))
        assert task is not None and task.fields["order_ids"] == [
            order_id(ROUND, household(9, "101"))
        ]


@pytest.mark.postgres
def test_two_processes_running_the_job_at_once_make_each_task_once(pg_url):
    app = make_app(pg_url)
    client = app.test_client()
    place_and_confirm(client, {"101": True, "602": True})
    # And one in building 10: two units, two tasks.
    volunteer, leader = sign_in(client, "vol-a"), sign_in(client, "leader-a")
    other = household(10)
    fields = {"supply_round_id": ROUND, "household_id": other, "channel": "proxy"}
    fields["lines"] = [{"package_id": VEG, "qty": 1}]
    reply = push(
        client,
        volunteer,
        a_changeset(create("order", fields, order_id(ROUND, other)), made_at=IN_WINDOW),
    )
    version = reply["results"][0]["changes"][0]["version"]
    confirm = update("order", order_id(ROUND, other), version, status="confirmed")
    push(client, leader, a_changeset(confirm, made_at=AFTER_CUTOFF))
    start = threading.Barrier(2)
    made: list[int] = []
    failed: list[BaseException] = []

    def worker() -> None:
        with app.app_context():
            try:
                start.wait()
                made.append(supplies.make_due_deliveries(parse_datetime(AFTER_CUTOFF)))
            except BaseException as error:  # reported below, in the test's thread
                failed.append(error)
            finally:
                db.session.remove()

    workers = [threading.Thread(target=worker) for _ in range(2)]
    for each in workers:
        each.start()
    for each in workers:
        each.join(120)
    assert not failed, failed
    # One made both units' tasks; the other, serialised behind it, found them made.
    assert sorted(made) == [0, 2]
    tasks = by_id(pull_all(client, volunteer)[0])
    units = [(BUILDING_9, "1"), (seed.stable_id("building", "A", 10), "1")]
    assert [tasks[delivery_task_id(ROUND, b, u)]["version"] > 0 for b, u in units] == [True] * 2
    assert not any(delivery_task_id(ROUND, b, u, 1) in tasks for b, u in units)
    with app.app_context():
        db.engine.dispose()


def test_a_serving_process_makes_the_tasks_at_the_cutoff_unasked(app, client, sqlite_url):
    now = utcnow()
    round_id = seed.stable_id("supply_round", "served")
    package = seed.stable_id("package", "served")
    leader, volunteer = sign_in(client, "leader-a"), sign_in(client, "vol-a")
    made_at = format_datetime(now)
    round_fields = {
        "compound_ids": [seed.stable_id("compound", "A")],
        "opens_at": format_datetime(now - timedelta(hours=1)),
        "cutoff_at": format_datetime(now + timedelta(seconds=3)),
        "delivers_at": format_datetime(now + timedelta(hours=5)),
    }
    package_fields = {"supply_round_id": round_id, "name": "蔬菜包", "price_cents": 3900}
    package_fields["stock"] = 10
    opened = push(
        client,
        leader,
        a_changeset(
            create("supply_round", round_fields, round_id),
            create("package", package_fields, package),
            made_at=made_at,
        ),
    )
    assert opened["results"][0]["status"] == "applied", opened
    target = household(9, "101")
    fields = {"supply_round_id": round_id, "household_id": target, "channel": "proxy"}
    fields["lines"] = [{"package_id": package, "qty": 1}]
    order = create("order", fields, order_id(round_id, target))
    reply = push(client, volunteer, a_changeset(order, made_at=made_at))
    version = reply["results"][0]["changes"][0]["version"]
    confirm = update("order", order["id"], version, status="confirmed", phoned=True)
    assert push(client, leader, a_changeset(confirm, made_at=made_at))["results"][0]["status"] == (
        "applied"
    )
    with app.app_context():
        db.engine.dispose()
    server = ServedApp(sqlite_url, {"WEIGUANG_DELIVERY_JOB_SECONDS": "0.5"}).start()
    task_id = delivery_task_id(round_id, BUILDING_9, "1")
    try:
        deadline = time.monotonic() + 60
        while True:
            with app.app_context():
                task = SqlStore.for_reading().get(task_id)
                db.session.remove()
            if task is not None:
                break
            assert time.monotonic() < deadline, "the serving process made no delivery task"
            time.sleep(0.5)
    finally:
        server.stop()
    assert task.fields["order_ids"] == [order["id"]]
    assert task.fields["status"] == "open"
