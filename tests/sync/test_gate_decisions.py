"""The gate decision, table-driven: tier × pass kind × direction × time.

The table (``tests.sync.gate_cases``) is shared with the device's
``decide.js`` through ``tests/web/fixtures/gate_decisions.json``.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.gate import DIRECTIONS, PASS_KINDS, PASS_PROBLEMS, TIERS, Scan, decide
from sync.times import parse_datetime
from tests.sync.gate_cases import EXPECTED, a_policy, cases

FIXTURE = Path(__file__).parents[1] / "web" / "fixtures" / "gate_decisions.json"
TIMES = st.datetimes(
    min_value=datetime(2022, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)


def scan_of(row: dict[str, Any]) -> Scan:
    """Return the scan a table row describes."""
    scan = row["scan"]
    return Scan(
        scan["kind"],
        scan["problem"],
        scan["direction"],
        parse_datetime(scan["at"]),
        scan["exits_today"],
    )


def test_the_table_names_every_tier_kind_and_direction() -> None:
    assert set(EXPECTED) == set(itertools.product(TIERS, PASS_KINDS, DIRECTIONS))


def test_the_committed_fixture_is_the_table() -> None:
    committed = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert committed == json.loads(json.dumps(cases())), (
        "regenerate: python -m tests.sync.gate_cases > tests/web/fixtures/gate_decisions.json"
    )


@pytest.mark.parametrize("row", cases(), ids=lambda row: row["name"])
def test_the_reference_decides_as_the_table_says(row: dict[str, Any]) -> None:
    decision = decide(row["policy"], scan_of(row))
    assert {"decision": decision.decision, "reason": decision.reason} == row["expected"]


@given(
    tier=st.sampled_from(TIERS),
    kind=st.sampled_from(PASS_KINDS),
    direction=st.sampled_from(DIRECTIONS),
    problem=st.sampled_from(PASS_PROBLEMS),
    at=TIMES,
    exits=st.integers(0, 5),
)
def test_a_pass_with_a_problem_is_denied_for_it_whatever_the_policy(
    tier: str, kind: str, direction: str, problem: str, at: datetime, exits: int
) -> None:
    decision = decide(a_policy(tier), Scan(kind, problem, direction, at, exits))
    assert (decision.decision, decision.reason) == ("deny", problem)


@given(tier=st.sampled_from(TIERS), kind=st.sampled_from(PASS_KINDS), at=TIMES)
def test_coming_home_is_always_allowed_under_the_default_rules(
    tier: str, kind: str, at: datetime
) -> None:
    assert decide(a_policy(tier), Scan(kind, None, "in", at, 9)).decision == "allow"


@given(at=TIMES, opens=st.integers(0, 1439), length=st.integers(1, 1439))
def test_a_window_lets_through_exactly_the_minutes_it_spans(
    at: datetime, opens: int, length: int
) -> None:
    closes = (opens + length) % 1440
    policy = a_policy(
        "precaution",
        window_opens=f"{opens // 60:02d}:{opens % 60:02d}",
        window_closes=f"{closes // 60:02d}:{closes % 60:02d}",
    )
    local = at + timedelta(minutes=480)
    inside = (local.hour * 60 + local.minute - opens) % 1440 < length
    decision = decide(policy, Scan("resident", None, "out", at, 0))
    assert decision.decision == ("allow" if inside else "deny")
