"""Every bench section makes its ids as a device does, through ``bench/ids.py``."""

from __future__ import annotations

import random
import re
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench import ids, query_worker

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_new_ids_are_uuid7_of_now_in_canonical_text() -> None:
    before_ms = time.time_ns() // 1_000_000
    made = [ids.new_id() for _ in range(200)]
    after_ms = time.time_ns() // 1_000_000
    for text in made:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 7
        assert parsed.int >> 62 & 0b11 == 0b10  # the variant, RFC 9562 §4.1
        # The counter may move the ms part on by one if it wraps.
        assert before_ms <= parsed.int >> 80 <= after_ms + 1
    assert len(set(made)) == len(made)


def test_new_ids_sort_in_the_order_made_within_a_millisecond() -> None:
    made = [ids.new_id() for _ in range(20_000)]
    per_ms = max(sum(1 for text in made if text[:13] == ms) for ms in {text[:13] for text in made})
    assert per_ms > 1  # many ids shared a millisecond: the counter, not the clock, ordered them
    assert made == sorted(made)
    assert [uuid.UUID(t).int for t in made] == sorted(uuid.UUID(t).int for t in made)
    assert len(set(made)) == len(made)


def test_new_ids_sort_in_the_order_made_across_threads() -> None:
    made: list[str] = []
    lock = threading.Lock()

    def make() -> None:
        for _ in range(2_000):
            with lock:  # the order they were made in, as one list
                made.append(ids.new_id())

    threads = [threading.Thread(target=make) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert made == sorted(made) and len(set(made)) == len(made)


def test_new_ids_keep_sorting_when_the_clock_steps_back(monkeypatch: pytest.MonkeyPatch) -> None:
    first = ids.new_id()
    earlier_ns = (uuid.UUID(first).int >> 80) * 1_000_000 - 5_000_000_000
    monkeypatch.setattr(ids.time, "time_ns", lambda: earlier_ns)
    later = [ids.new_id() for _ in range(10)]
    assert [first, *later] == sorted([first, *later])


def test_a_wrapped_counter_moves_the_millisecond_on(monkeypatch: pytest.MonkeyPatch) -> None:
    now_ns = 1_764_600_000_000 * 1_000_000
    monkeypatch.setattr(ids.time, "time_ns", lambda: now_ns)
    monkeypatch.setattr(ids, "_last_ms", now_ns // 1_000_000)
    monkeypatch.setattr(ids, "_counter", (1 << ids.COUNTER_BITS) - 1)
    wrapped = uuid.UUID(ids.new_id())
    assert wrapped.int >> 80 == now_ns // 1_000_000 + 1
    assert (wrapped.int >> 64 & 0xFFF) << 20 | (wrapped.int >> 42 & 0xFFFFF) == 0  # the counter


def test_uuid7_lays_out_time_version_variant_and_random_bits() -> None:
    assert ids.uuid7(0x0123456789AB, 0) == "01234567-89ab-7000-8000-000000000000"
    assert ids.uuid7(0x0123456789AB, (1 << 74) - 1) == "01234567-89ab-7fff-bfff-ffffffffffff"
    assert ids.uuid7(0, 1 << 62) == "00000000-0000-7001-8000-000000000000"
    for bad in [(-1, 0), (1 << 48, 0), (0, -1), (0, 1 << 74)]:
        with pytest.raises(ValueError):
            ids.uuid7(*bad)


def test_client_ids_are_uuid4_as_the_app_makes_them() -> None:
    made = uuid.UUID(ids.new_client_id())
    assert (made.version, made.variant) == (4, uuid.RFC_4122)


def test_the_query_worker_gives_records_uuid7_of_when_they_were_made() -> None:
    made_at = datetime(2026, 11, 30, 8, 15, 0, 123_000, tzinfo=UTC)
    hood = query_worker.Neighbourhood(random.Random(1), made_at)
    again = query_worker.Neighbourhood(random.Random(1), made_at)
    made = uuid.UUID(hood.new_id(made_at))
    assert made.version == 7 and made.int >> 80 == 1_796_026_500_123
    assert str(made) == again.new_id(made_at)  # seeded: the same neighbourhood each run


def test_no_bench_module_makes_ids_of_its_own() -> None:
    """Record, changeset and client ids come from ``bench/ids.py`` only."""
    own = re.compile(r"uuid\.uuid4\(|uuid\.UUID\(int=|gen_random_uuid|uuid1\(|randomUUID")
    offenders = [
        f"{path.name}:{number}"
        for path in sorted(BENCH.glob("*.[pj][ys]"))
        if path.name != "ids.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if own.search(line)
    ]
    assert offenders == []
