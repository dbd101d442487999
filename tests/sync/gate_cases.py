"""The gate decision table: ``tests/web/fixtures/gate_decisions.json``.

Every tier × pass kind × direction under the default rules, at a time inside
the precaution window; the window's edges (and one over midnight) and the
day's quota; every problem a pass check can find; a policy with no rule for
the case. Each case carries the decision the product asks for, written out
here by hand (``EXPECTED``), not computed by :func:`sync.gate.decide`:
``tests/sync/test_gate_decisions.py`` checks the Python reference against
it and ``tests/web/gate.test.js`` the device's ``decide.js``, so the two
agree. Regenerate with
``python -m tests.sync.gate_cases > tests/web/fixtures/gate_decisions.json``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from sync.gate import PASS_PROBLEMS, default_rules

#: (tier, pass kind, direction) → (decision, reason), inside the day's window.
EXPECTED = {
    ("sealed", "resident", "in"): ("allow", "allowed"),
    ("sealed", "medical_exit", "in"): ("allow", "allowed"),
    ("sealed", "worker", "in"): ("allow", "allowed"),
    ("sealed", "resident", "out"): ("deny", "tier_forbids"),
    ("sealed", "medical_exit", "out"): ("allow", "allowed"),
    ("sealed", "worker", "out"): ("deny", "tier_forbids"),
    ("controlled", "resident", "in"): ("allow", "allowed"),
    ("controlled", "medical_exit", "in"): ("allow", "allowed"),
    ("controlled", "worker", "in"): ("allow", "allowed"),
    ("controlled", "resident", "out"): ("deny", "tier_forbids"),
    ("controlled", "medical_exit", "out"): ("allow", "allowed"),
    ("controlled", "worker", "out"): ("allow", "allowed"),
    ("precaution", "resident", "in"): ("allow", "allowed"),
    ("precaution", "medical_exit", "in"): ("allow", "allowed"),
    ("precaution", "worker", "in"): ("allow", "allowed"),
    ("precaution", "resident", "out"): ("allow", "allowed"),
    ("precaution", "medical_exit", "out"): ("allow", "allowed"),
    ("precaution", "worker", "out"): ("allow", "allowed"),
}
#: Local (UTC+8) noon on the day of the cases, in UTC.
NOON = "2022-04-02T04:00:00.000Z"
#: A precaution resident leaving: local time, exits already made → (decision, reason).
WINDOW = [
    ("2022-04-01T21:59:00.000Z", 0, ("deny", "outside_window")),  # 05:59
    ("2022-04-01T22:00:00.000Z", 0, ("allow", "allowed")),  # 06:00
    ("2022-04-02T11:59:00.000Z", 0, ("allow", "allowed")),  # 19:59
    ("2022-04-02T12:00:00.000Z", 0, ("deny", "outside_window")),  # 20:00
    (NOON, 1, ("deny", "quota_used")),
    ("2022-04-02T13:00:00.000Z", 1, ("deny", "outside_window")),  # 21:00, the window first
]
#: The same leaving under a window over midnight, 22:00 to 06:00.
NIGHT = [
    ("2022-04-02T15:00:00.000Z", ("allow", "allowed")),  # 23:00
    ("2022-04-01T21:00:00.000Z", ("allow", "allowed")),  # 05:00
    (NOON, ("deny", "outside_window")),
]


def a_policy(tier: str, **overrides: Any) -> dict[str, Any]:
    """Return a gate policy's fields: default rules, exits from 06:00 to 20:00, one a day."""
    policy: dict[str, Any] = {
        "tier": tier,
        "rules": default_rules(),
        "window_opens": "06:00",
        "window_closes": "20:00",
        "exits_per_day": 1,
        "utc_offset_minutes": 480,
    }
    policy.update(overrides)
    return policy


def a_case(
    name: str,
    policy: dict[str, Any],
    kind: str,
    direction: str,
    expected: tuple[str, str],
    at: str = NOON,
    exits_today: int = 0,
    problem: str | None = None,
) -> dict[str, Any]:
    """Return one row of the table."""
    scan = {
        "kind": kind,
        "problem": problem,
        "direction": direction,
        "at": at,
        "exits_today": exits_today,
    }
    decision, reason = expected
    return {
        "name": name,
        "policy": policy,
        "scan": scan,
        "expected": {"decision": decision, "reason": reason},
    }


def cases() -> list[dict[str, Any]]:
    """Return every case of the table."""
    out = [
        a_case(f"{tier} {kind} {direction}", a_policy(tier), kind, direction, expected)
        for (tier, kind, direction), expected in EXPECTED.items()
    ]
    out += [
        a_case(f"window {at} after {n}", a_policy("precaution"), "resident", "out", exp, at, n)
        for at, n, exp in WINDOW
    ]
    night = a_policy("precaution", window_opens="22:00", window_closes="06:00")
    out += [a_case(f"night window {at}", night, "resident", "out", exp, at) for at, exp in NIGHT]
    unlimited = a_policy("precaution", exits_per_day=None)
    out.append(a_case("no quota", unlimited, "resident", "out", ("allow", "allowed"), NOON, 5))
    out += [
        a_case(
            f"{problem} pass",
            a_policy("precaution"),
            "medical_exit",
            direction,
            ("deny", problem),
            problem=problem,
        )
        for problem in PASS_PROBLEMS
        for direction in ("in", "out")
    ]
    out.append(
        a_case("no rule", a_policy("sealed", rules=[]), "resident", "in", ("deny", "no_rule"))
    )
    return out


def main() -> None:
    """Print the table as JSON."""
    json.dump(cases(), sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
