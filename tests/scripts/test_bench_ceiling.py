"""The ceiling bench's throughput trials time only the requests (``bench/ceiling.py``)."""

from __future__ import annotations

import contextlib
import json
import uuid
from typing import Any

import pytest

from bench import ceiling, client, harness, push

COMPOUNDS = {"A": str(uuid.uuid4()), "B": str(uuid.uuid4()), "C": str(uuid.uuid4())}


class Recording:
    """A connection that notes each request in ``log`` and answers 200 with ``reply``."""

    def __init__(self, log: list[str], reply: dict[str, Any]) -> None:
        self.log = log
        self.reply = json.dumps(reply).encode()

    def request(self, method: str, path: str, body: Any = None) -> client.Reply:
        assert isinstance(body, bytes)
        self.log.append("send")
        return client.Reply(200, {}, self.reply, 0.0)


def pair(log: list[str]) -> ceiling.Pair:
    made = ceiling.Pair.__new__(ceiling.Pair)
    made.client_id = "bench"
    made.workload = push.Workload(1, COMPOUNDS, "A")
    made.ceiling_workload = push.Workload(1, COMPOUNDS, "A")
    made.errors = []
    made.weiguang = Recording(log, {"results": []})  # type: ignore[assignment]
    made.ceiling = Recording(log, {"written": 1})  # type: ignore[assignment]
    return made


def test_trial_bodies_are_made_before_the_clock_and_replies_read_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log: list[str] = []
    real_round, real_settle = push.Workload.coordinator_round, push.Workload.settle

    def coordinator_round(workload: push.Workload, size: int) -> list[dict[str, Any]]:
        log.append("build")
        return real_round(workload, size)

    def settle(workload: push.Workload, reply: dict[str, Any]) -> Any:
        log.append("read")
        return real_settle(workload, reply)

    def clock() -> float:
        log.append("clock")
        return float(len(log))

    monkeypatch.setattr(push.Workload, "coordinator_round", coordinator_round)
    monkeypatch.setattr(push.Workload, "settle", settle)
    monkeypatch.setattr(ceiling.time, "perf_counter", clock)
    pairs = [pair(log), pair(log)]
    effort = ceiling.Effort(trials=1, rounds=3, singles=0, pulls=0, full_pulls=0)

    versus = ceiling.batches(pairs, effort)

    timed = ["clock"] + ["send"] * 6 + ["clock"]
    assert log == ["build"] * 2 + timed + ["build"] * 2 + timed + ["read"] * 6
    assert versus.weiguang[0] == versus.ceiling[0] == 6 * ceiling.BATCH / 7
    assert not [e for p in pairs for e in p.errors]


class QuietPair:
    """A pair whose pushes all apply, with no server behind it (for push_figures' trials)."""

    def __init__(self, *args: Any) -> None:
        self.errors: list[str] = []

    def push_weiguang(self, size: int) -> int:
        return size

    def push_ceiling(self, size: int) -> int:
        return size

    def close(self) -> None:
        pass


def test_one_and_four_client_trials_take_turns(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each trial grows both databases, and a push costs more in a larger one:
    # cells run one after the other would favour the first (issue #16).
    trials: list[int] = []

    def batches(pairs: list[QuietPair], effort: ceiling.Effort) -> ceiling.Versus:
        assert effort.trials == 1
        trials.append(len(pairs))
        return ceiling.Versus([float(len(pairs))], [10.0])

    monkeypatch.setattr(ceiling, "Pair", QuietPair)
    monkeypatch.setattr(ceiling, "batches", batches)
    effort = ceiling.Effort(trials=3, rounds=2, singles=1, pulls=0, full_pulls=0)

    figures = ceiling.push_figures("sqlite", "w", "c", "pw", COMPOUNDS, effort)

    assert trials == [1, 4] * 3
    pushes = [f for f in figures if f.unit == "records/s"]
    assert [(f.value, f.floor) for f in pushes] == [(1.0, 10.0), (4.0, 10.0)]
    assert "median of 3 (Weiguang) and 3 (ceiling)" in pushes[0].note


def test_each_cell_gives_records_per_second_of_each_servers_cpu(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each server's CPU clock moves only while its own trial runs; the idle one stays put.
    clocks = {10: 0.0, 20: 0.0}
    running: list[int] = []

    def batches(pairs: list[QuietPair], effort: ceiling.Effort) -> ceiling.Versus:
        running.append(len(pairs))
        clocks[10] += 0.5 * len(pairs)  # Weiguang: 0.5 s a client a trial
        clocks[20] += 0.1 * len(pairs)  # the ceiling: 0.1 s
        return ceiling.Versus([1.0], [4.0])

    monkeypatch.setattr(ceiling, "Pair", QuietPair)
    monkeypatch.setattr(ceiling, "batches", batches)
    monkeypatch.setattr(ceiling.harness, "threads_cpu_seconds", clocks.__getitem__)
    effort = ceiling.Effort(trials=2, rounds=4, singles=1, pulls=0, full_pulls=0)

    figures = ceiling.push_figures("sqlite", "w", "c", "pw", COMPOUNDS, effort, pids=(10, 20))

    cpu = [f for f in figures if f.unit == "records/CPU-s"]
    # 1 client: 2 trials x 4 rounds x 250 = 2,000 records over 1.0 s and 0.2 s of CPU.
    assert [(f.value, f.floor) for f in cpu] == [(2000.0, 10000.0), (2000.0, 10000.0)]
    assert cpu[0].ratio == pytest.approx(0.2)
    assert "2,000 records" in cpu[0].note and "1,000 ms against 200 ms" in cpu[0].note
    assert "8,000 records" in cpu[1].note and "4,000 ms against 800 ms" in cpu[1].note
    assert running == [1, 4, 1, 4]


def test_without_the_servers_process_ids_a_cell_gives_no_cpu_figure() -> None:
    figure = ceiling.cpu_figure("postgresql", "x", 1000, 0.5, 0.0)
    assert figure.value == 2000.0 and figure.floor is None and figure.ratio is None
    assert "PostgreSQL's own processes not counted" in figure.note


def test_threads_cpu_seconds_counts_every_live_thread_of_a_process() -> None:
    import os
    import threading
    import time

    def spin(seconds: float) -> None:
        until = time.thread_time() + seconds
        while time.thread_time() < until:
            pass

    spun, done = threading.Event(), threading.Event()

    def other() -> None:
        spin(0.2)
        spun.set()
        done.wait()  # alive, not running, while it is counted

    before = harness.threads_cpu_seconds(os.getpid())
    thread = threading.Thread(target=other)
    thread.start()
    try:
        spun.wait()
        assert harness.threads_cpu_seconds(os.getpid()) - before >= 0.2  # the other thread's
        spin(0.1)
        assert harness.threads_cpu_seconds(os.getpid()) - before >= 0.3  # and this one's
    finally:
        done.set()
        thread.join()


def test_a_figure_is_the_ratio_of_medians_and_notes_the_trials_spread() -> None:
    versus = ceiling.Versus(weiguang=[2.0, 4.0, 3.0], ceiling=[10.0, 8.0, 12.0])
    figure = versus.figure("ceiling", "push", "records/s", None)
    assert figure.value == 3.0 and figure.floor == 10.0
    assert figure.ratio == pytest.approx(0.3)
    # 2/10, 4/8, 3/12: each Weiguang trial over the ceiling trial beside it.
    assert figure.note.endswith("median of 3 (Weiguang) and 3 (ceiling); trials' ratios 0.2–0.5")


def test_a_single_trial_figure_notes_no_spread() -> None:
    figure = ceiling.Versus(weiguang=[2.0], ceiling=[10.0]).figure("ceiling", "x", "ms", None)
    assert figure.note == "median of 1 (Weiguang) and 1 (ceiling)"


class Answering:
    """A connection that answers each path from ``answers`` (by prefix) and notes the bodies."""

    def __init__(self, answers: dict[str, dict[str, Any]]) -> None:
        self.answers = answers
        self.sent: list[tuple[str, Any]] = []

    def request(self, method: str, path: str, body: Any = None) -> client.Reply:
        self.sent.append((path, body))
        answer = next(reply for prefix, reply in self.answers.items() if path.startswith(prefix))
        return client.Reply(200, {}, json.dumps(answer).encode(), 0.0)


@pytest.mark.parametrize(("records", "ceiling_end", "filled"), [(7192, 0, 7192), (50, 20, 30)])
def test_the_ceiling_is_topped_up_to_as_many_rows_as_weiguang_holds_records(
    records: int, ceiling_end: int, filled: int
) -> None:
    made = ceiling.Pair.__new__(ceiling.Pair)
    made.weiguang = Answering(  # type: ignore[assignment]
        {
            "/bench/floor/records": {"records": records},
            "/api/v1/sync/pull": {"changes": [], "cursor": 0, "more": False},
        }
    )
    made.ceiling = Answering(  # type: ignore[assignment]
        {"/pull": {"rows": [], "cursor": ceiling_end, "more": False}, "/fill": {}}
    )

    assert ceiling.hold_even(made, COMPOUNDS["A"]) == records

    fills = [body for path, body in made.ceiling.sent if path == "/fill"]  # type: ignore[attr-defined]
    assert sum(body["count"] for body in fills) == filled


def test_the_ceiling_is_held_even_before_anything_is_pushed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Weiguang starts with the demo neighbourhood: against an empty ceiling
    # its first trials compared a young database with a seeded one (issue #16).
    order: list[str] = []

    class Served:
        url = "c"
        process = None  # not started: no CPU to read

    class Stop(Exception):
        pass

    class Quiet:
        def __init__(self, *args: Any) -> None:
            pass

        def close(self) -> None:
            pass

    def push_figures(*args: Any) -> list[Any]:
        order.append("push")
        raise Stop

    monkeypatch.setattr(ceiling, "ceiling_server", lambda kind: contextlib.nullcontext(Served()))
    monkeypatch.setattr(ceiling, "Pair", QuietPair)
    monkeypatch.setattr(ceiling, "hold_even", lambda pair, compound: order.append("hold") or 0)
    monkeypatch.setattr(ceiling, "push_figures", push_figures)

    with pytest.raises(Stop):
        ceiling.run("w", "sqlite", "pw", COMPOUNDS, quick=True)

    assert order == ["hold", "push"]
