"""The bench's push client makes its ids as the web app does (``bench/push.py``)."""

from __future__ import annotations

import time
import uuid

from bench import push

COMPOUNDS = {"A": str(uuid.uuid4()), "B": str(uuid.uuid4()), "C": str(uuid.uuid4())}


def test_pushed_record_and_changeset_ids_are_uuid7_of_now() -> None:
    before_ms = time.time_ns() // 1_000_000
    changesets = push.Workload(1, COMPOUNDS, "A").coordinator_round(20)
    after_ms = time.time_ns() // 1_000_000
    ids = [cs["id"] for cs in changesets] + [cs["changes"][0]["id"] for cs in changesets]
    for text in ids:
        made = uuid.UUID(text)
        assert str(made) == text
        assert (made.version, made.variant) == (7, uuid.RFC_4122)
        assert before_ms <= made.int >> 80 <= after_ms


def test_coordinator_rounds_edit_earlier_tasks_once_a_round_and_never_the_open_pool() -> None:
    workload = push.Workload(1, COMPOUNDS, "A")
    pool = {cs["changes"][0]["id"] for cs in workload.prepare(50)}
    claimed = {cs["changes"][0]["id"] for cs in workload.claim_round(25) or []}
    created: set[str] = set()
    edited: set[str] = set()
    for _ in range(40):
        changes = [cs["changes"][0] for cs in workload.coordinator_round(50)]
        edits = [c["id"] for c in changes if c["op"] == "update"]
        assert len(edits) == len(set(edits))
        assert set(edits) <= created | claimed
        created |= {c["id"] for c in changes if c["op"] == "create"}
        edited |= set(edits)
    assert not edited & (pool - claimed)
    assert edited & claimed
    assert 0.2 < len(edited - claimed) / len(created) < 0.5
