"""What the push loader lets through can be stored and served (issue 7, items 1, 4, 8).

Unpaired surrogates (legal JSON: ``"smile \\ud83d end"``) and U+0000 anywhere
in a changeset make that changeset ``invalid`` alone; outside the changesets
they refuse the push whole. Sizes that a column or a ``BIGINT`` cannot hold,
and more changesets or changes than the documented caps, are refused too.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync import Code, MalformedPush, MemoryStore, push_from_wire
from sync.protocol import apply_push
from sync.wire import (
    MAX_CHANGES,
    MAX_CHANGESETS,
    MAX_VERSION,
    TEXT_RULE,
    PushTooLarge,
    storable_source,
    unstorable_text,
)
from tests.sync.builders import RECEIVED, TASK_A, VOL_A, new_id

SMILE = "smile \ud83d end"  # what json.loads makes of "smile \\ud83d end"
# Every code point, surrogates included (hypothesis leaves them out by default).
ANY_CHAR = st.characters(codec=None, exclude_categories=())
ANY_TEXT = st.text(ANY_CHAR, max_size=8)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=12,
)


def a_wire_changeset(**overrides: Any) -> dict[str, Any]:
    change = {
        "type": "task",
        "id": TASK_A,
        "op": "update",
        "base_version": 0,
        "fields": {"notes": "fine"},
    }
    return {"id": new_id(), "made_at": "2022-03-23T10:00:00.000Z", "changes": [change]} | overrides


def strings_in(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, inner in value.items() for s in [key, *strings_in(inner)]]
    if isinstance(value, list):
        return [s for inner in value for s in strings_in(inner)]
    return []


def storable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


@given(value=JSON_VALUES)
def test_unstorable_text_finds_exactly_the_strings_utf8_or_postgresql_refuse(
    value: object,
) -> None:
    assert (unstorable_text(value) is None) == all(map(storable, strings_in(value)))


def test_unstorable_text_walks_any_depth_without_recursion() -> None:
    deep: object = SMILE
    for _ in range(100_000):
        deep = [deep]
    assert unstorable_text(deep) == ".".join(["0"] * 100_000)


# Where a bad string may hide in a changeset: every place, keys included.
PLACES = [
    lambda cs, bad: cs["changes"][0]["fields"].update(notes=bad),  # the issue's example
    lambda cs, bad: cs["changes"][0]["fields"].update({bad: "x"}),
    lambda cs, bad: cs["changes"][0]["fields"].update(needs=[["deep", {"k": bad}]]),
    lambda cs, bad: cs["changes"][0].update(id=bad),
    lambda cs, bad: cs["changes"][0].update(type=bad),
    lambda cs, bad: cs["changes"][0].update(op=bad),
    lambda cs, bad: cs.update(id=bad),
    lambda cs, bad: cs.update(made_at=bad),
    lambda cs, bad: cs.update({bad: 1}),
]


@pytest.mark.parametrize("place", range(len(PLACES)))
@given(prefix=ANY_TEXT, suffix=ANY_TEXT, bad=st.sampled_from(["\ud83d", "\udfff", "\x00"]))
def test_a_bad_string_anywhere_in_a_changeset_makes_it_invalid_alone(
    place: int, prefix: str, suffix: str, bad: str
) -> None:
    spoiled = a_wire_changeset()
    PLACES[place](spoiled, prefix + bad + suffix)
    push = push_from_wire({"client_id": "c", "changesets": [spoiled, a_wire_changeset()]})
    first, second = push.changesets
    assert first.problem is not None and TEXT_RULE in first.problem
    assert first.made_at is None
    # Only storable ids are echoed (and looked up), never the bad text.
    assert all(map(storable, [first.id, *(s for c in first.changes for s in (c.type, c.id))]))
    assert all(not c.fields for c in first.changes)
    assert second.problem is None


def test_the_issue_example_is_rejected_invalid_and_the_next_changeset_applies(
    world: MemoryStore,
) -> None:
    claim = a_wire_changeset()
    claim["changes"][0]["fields"] = {"status": "claimed"}
    raw = json.dumps({"client_id": "c", "changesets": [a_wire_changeset(), claim]})
    body = json.loads(raw.replace('"fine"', '"smile \\ud83d end"'))  # raw JSON text, as sent
    outcome = apply_push(world, VOL_A, push_from_wire(body), RECEIVED)
    first, second = outcome.results
    assert first.status == "rejected"
    assert first.changes[0].conflict is not None
    assert first.changes[0].conflict.code is Code.INVALID
    assert second.status == "applied"


@pytest.mark.parametrize(
    "body",
    [
        {"client_id": SMILE, "changesets": []},
        {"client_id": "a\x00b", "changesets": []},
        {"client_id": "c", "changesets": [], "extra": {"deep": [SMILE]}},
        {"client_id": "c", "changesets": [], SMILE: 1},
    ],
)
def test_bad_text_outside_the_changesets_refuses_the_push_whole(body: object) -> None:
    with pytest.raises(MalformedPush):
        push_from_wire(body)


def test_a_push_holds_at_most_max_changesets() -> None:
    assert len(push_from_wire({"changesets": [{}] * MAX_CHANGESETS}).changesets) == MAX_CHANGESETS
    with pytest.raises(PushTooLarge, match=str(MAX_CHANGESETS)):
        push_from_wire({"changesets": [{}] * (MAX_CHANGESETS + 1)})


def test_a_changeset_over_max_changes_is_invalid_with_every_change_listed() -> None:
    change = a_wire_changeset()["changes"][0]
    at_cap = a_wire_changeset(changes=[change] * MAX_CHANGES)
    over = a_wire_changeset(changes=[change] * (MAX_CHANGES + 1))
    loaded_at_cap, loaded_over = push_from_wire({"changesets": [at_cap, over]}).changesets
    assert loaded_at_cap.problem is None
    assert loaded_over.problem is not None and str(MAX_CHANGES) in loaded_over.problem
    assert len(loaded_over.changes) == MAX_CHANGES + 1


@pytest.mark.parametrize("changeset_id", ["", "x" * 37, 5, None])
def test_a_changeset_id_must_fit_its_column(changeset_id: object) -> None:
    (loaded,) = push_from_wire({"changesets": [a_wire_changeset(id=changeset_id)]}).changesets
    assert loaded.problem is not None and loaded.id == ""


@pytest.mark.parametrize(
    ("base", "malformed"),
    [(MAX_VERSION, False), (MAX_VERSION + 1, True), (2**70, True), (-1, True), (1.0, True)],
)
def test_base_version_must_fit_a_bigint(base: object, malformed: bool) -> None:
    changeset = a_wire_changeset()
    changeset["changes"][0]["base_version"] = base
    (loaded,) = push_from_wire({"changesets": [changeset]}).changesets
    assert (loaded.changes[0].problem is not None) == malformed


def encodings(body: object) -> list[bytes]:
    """Return JSON texts of ``body`` as clients may send them."""
    escaped = json.dumps(body)  # \u escapes for everything past ASCII, surrogates too
    plain = json.dumps(body, ensure_ascii=False)
    return [
        escaped.encode(),
        plain.encode("utf-8", "surrogatepass"),  # a lone surrogate as its UTF-8 bytes
        plain.encode("utf-16", "surrogatepass"),
        plain.encode("utf-32-le", "surrogatepass"),
    ]


def loaded(body: object, storable: bool) -> object:
    try:
        return push_from_wire(body, storable=storable)
    except (MalformedPush, PushTooLarge) as error:
        return repr(error)


@given(
    client_id=ANY_TEXT,
    top=st.dictionaries(ANY_TEXT, JSON_VALUES, max_size=2),
    texts=st.lists(ANY_TEXT, min_size=1, max_size=4),
    extra=JSON_VALUES,
)
def test_a_body_whose_text_passes_the_source_check_loads_as_with_every_string_checked(
    client_id: str, top: dict[str, Any], texts: list[str], extra: object
) -> None:
    """The check of the raw text (issue #16) never lets an unstorable string through."""
    changesets = [a_wire_changeset(), a_wire_changeset()]
    changesets[0]["changes"][0]["fields"]["notes"] = texts[0]
    changesets[1]["changes"][0]["fields"] = {text: extra for text in texts}
    body = {**top, "client_id": client_id, "changesets": changesets}
    for raw in encodings(body):
        decoded = json.loads(raw)
        if storable_source(raw):
            assert unstorable_text(decoded) is None
        assert loaded(decoded, storable_source(raw)) == loaded(decoded, False)


@pytest.mark.parametrize("bad", ["\ud83d", "\udfff", "\x00"])
def test_the_source_check_sends_every_unstorable_string_to_the_walk(bad: str) -> None:
    body = {"changesets": [a_wire_changeset(id=bad)]}
    assert not any(storable_source(raw) for raw in encodings(body))
    assert storable_source(json.dumps({"changesets": [a_wire_changeset()]}).encode())
