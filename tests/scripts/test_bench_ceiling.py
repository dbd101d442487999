"""The ceiling bench's throughput trials time only the requests (``bench/ceiling.py``)."""

from __future__ import annotations

import contextlib
import json
import uuid
from typing import Any

import pytest

from bench import ceiling, client, push

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


def test_one_and_four_client_trials_take_turns(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each trial grows both databases, and a push costs more in a larger one:
    # cells run one after the other would favour the first (issue #16).
    trials: list[int] = []

    class Quiet:
        def __init__(self, *args: Any) -> None:
            self.errors: list[str] = []

        def push_weiguang(self, size: int) -> int:
            return size

        def push_ceiling(self, size: int) -> int:
            return size

        def close(self) -> None:
            pass

    def batches(pairs: list[Quiet], effort: ceiling.Effort) -> ceiling.Versus:
        assert effort.trials == 1
        trials.append(len(pairs))
        return ceiling.Versus([float(len(pairs))], [10.0])

    monkeypatch.setattr(ceiling, "Pair", Quiet)
    monkeypatch.setattr(ceiling, "batches", batches)
    effort = ceiling.Effort(trials=3, rounds=2, singles=1, pulls=0, full_pulls=0)

    figures = ceiling.push_figures("sqlite", "w", "c", "pw", COMPOUNDS, effort)

    assert trials == [1, 4] * 3
    pushes = [f for f in figures if f.unit == "records/s"]
    assert [(f.value, f.floor) for f in pushes] == [(1.0, 10.0), (4.0, 10.0)]
    assert "median of 3 (Weiguang) and 3 (ceiling)" in pushes[0].note


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
    monkeypatch.setattr(ceiling, "Pair", Quiet)
    monkeypatch.setattr(ceiling, "hold_even", lambda pair, compound: order.append("hold") or 0)
    monkeypatch.setattr(ceiling, "push_figures", push_figures)

    with pytest.raises(Stop):
        ceiling.run("w", "sqlite", "pw", COMPOUNDS, quick=True)

    assert order == ["hold", "push"]
