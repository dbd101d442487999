"""Gate alerts: fever, repeated denials, one pass at two posts (``sync.gate.alerts_for``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.gate import (
    COPY_WINDOW,
    DENIALS_ALERT_AT,
    DENIALS_WINDOW,
    alert_id,
    alerts_for,
)
from sync.records import Record, Scope
from sync.times import format_datetime
from tests.sync.builders import COMPOUND_A, T0, new_id

PASS = "5a0c7e1e-0001-4000-8000-000000000001"


def an_event(
    minutes: float = 0, post: str = "West", decision: str = "allow", **fields: Any
) -> Record:
    """Return a logged gate event of ``PASS`` ``minutes`` after T0."""
    values: dict[str, Any] = {
        "compound_id": COMPOUND_A,
        "post": post,
        "direction": "out",
        "decision": decision,
        "pass_id": PASS,
        "policy_version": 3,
        "scanned_at": format_datetime(T0 + timedelta(minutes=minutes)),
    }
    values.update(fields)
    return Record("gate_event", new_id(), 1, False, values, {}, Scope(frozenset({COMPOUND_A})))


def kinds(event: Record, recent: list[Record], threshold: float = 37.3) -> list[str]:
    return [str(alert["kind"]) for alert in alerts_for(event, recent, threshold)]


@pytest.mark.parametrize(
    ("temperature", "expected"),
    [(None, []), (36.5, []), (37.2, []), (37.3, ["fever"]), (39.0, ["fever"])],
)
def test_a_temperature_at_or_over_the_threshold_is_a_fever(
    temperature: float | None, expected: list[str]
) -> None:
    assert kinds(an_event(temperature_c=temperature, pass_id=None), []) == expected


def test_the_third_denial_of_a_pass_within_ten_minutes_alerts_once() -> None:
    first, second = an_event(0, decision="deny"), an_event(4, decision="deny")
    third, fourth = an_event(9, decision="deny"), an_event(9.5, decision="deny")
    assert kinds(second, [first]) == []
    assert kinds(third, [first, second]) == ["repeated_denials"]
    assert kinds(fourth, [first, second, third]) == []
    assert DENIALS_ALERT_AT == 3


def test_denials_spread_over_more_than_the_window_do_not_alert() -> None:
    late = DENIALS_WINDOW.total_seconds() / 60 + 1
    old = [an_event(0, decision="deny"), an_event(0.5, decision="deny")]
    assert kinds(an_event(late + 0.5, decision="deny"), old) == []


@given(gap=st.floats(0, 30), same_post=st.booleans())
def test_one_pass_at_two_posts_within_minutes_is_a_copied_pass(
    gap: float, same_post: bool
) -> None:
    earlier = an_event(0, post="West")
    later = an_event(gap, post="West" if same_post else "East")
    copied = not same_post and timedelta(minutes=gap) <= COPY_WINDOW
    assert ("copied_pass" in kinds(later, [earlier])) == copied


def test_an_alert_names_its_posts_and_has_the_events_id() -> None:
    east = an_event(2, post="East")
    (alert,) = alerts_for(east, [an_event(0, post="West")], 37.3)
    assert alert["posts"] == ["East", "West"] and alert["event_id"] == east.id
    assert alert_id(east.id, "copied_pass") != alert_id(east.id, "fever")
