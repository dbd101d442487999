"""Declared fields: validation, JSON Schema, and values that change when stored."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from sync import fields as f
from sync.catalog import REGISTRY


def test_a_full_id_number_is_stored_with_the_birth_date_masked() -> None:
    assert f.MaskedIdNumber().validate("31010519800101123x") == "310105********123X"


def test_an_already_masked_id_number_is_kept() -> None:
    assert f.MaskedIdNumber().validate("310105********1234") == "310105********1234"


@pytest.mark.parametrize("value", ["31010519800101", "no number", 310105, "*"])
def test_anything_else_is_refused(value: object) -> None:
    with pytest.raises(ValueError):
        f.MaskedIdNumber().validate(value)


# Every field of every declared type, and a few built for the test.
DECLARED = [
    pytest.param(declared, id=f"{rtype.name}.{name}")
    for rtype in REGISTRY.values()
    for name, declared in rtype.fields.items()
] + [
    pytest.param(f.Date(), id="date"),
    pytest.param(f.LangMap(), id="langmap"),
    pytest.param(f.ListOf(f.Ref("compound"), 5), id="list-of-refs"),
]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=8,
)
# Values close to what each kind of field accepts, so the property is not vacuous.
NEAR = st.one_of(
    JSON,
    st.sampled_from(["2022-04-01", "2022-04-01T08:00:00Z", "2022-04-01T08:00:00", "open"]),
    st.uuids().map(str),
    st.dictionaries(st.sampled_from(["zh-CN", "en", "xx_YY"]), st.text(max_size=5)),
)


@pytest.mark.parametrize("declared", DECLARED)
def test_json_schema_is_valid(declared: f.Field) -> None:
    Draft202012Validator.check_schema(declared.json_schema())


@pytest.mark.parametrize("declared", DECLARED)
@settings(max_examples=25)
@given(value=NEAR)
def test_what_a_field_stores_its_schema_accepts(declared: f.Field, value: object) -> None:
    try:
        stored = declared.validate(value)
    except ValueError:
        return
    Draft202012Validator(declared.json_schema()).validate(stored)
    if isinstance(stored, str):
        stored.encode("utf-8")  # never a lone surrogate


@settings(max_examples=300)
@given(value=st.text())
def test_text_is_valid_unicode_without_controls_by_construction(value: str) -> None:
    for declared in (f.Text(0, 2000), f.Text(0, 2000, multiline=True)):
        try:
            stored = declared.validate(value)
        except ValueError:
            continue
        assert isinstance(stored, str)
        stored.encode("utf-8")
        allowed = {"\n", "\t"} if declared.multiline else set()
        assert all(unicodedata.category(c) != "Cc" or c in allowed for c in stored)


@pytest.mark.parametrize(
    "value", ["smile \ud83d end", "nul\x00", "bell\x07", "esc\x1b[0m", "c1\x85", "line\nbreak"]
)
def test_single_line_text_refuses_broken_and_control_characters(value: str) -> None:
    with pytest.raises(ValueError):
        f.Text(0, 200).validate(value)


def test_multiline_text_keeps_newlines_and_tabs_only() -> None:
    assert f.Text(0, 200, multiline=True).validate("a\n\tb") == "a\n\tb"
    with pytest.raises(ValueError):
        f.Text(0, 200, multiline=True).validate("a\r\x00b")


@pytest.mark.parametrize("value", ["2022-04-01T08:00:00", "2022-04-01", "tomorrow", 1648800000])
def test_date_time_needs_a_zone(value: object) -> None:
    with pytest.raises(ValueError):
        f.DateTime().validate(value)


def test_date_time_is_stored_in_utc_wire_form() -> None:
    assert f.DateTime().validate("2022-04-01T16:00:00+08:00") == "2022-04-01T08:00:00.000Z"


@pytest.mark.parametrize("value", ["2022-02-30", "2022-4-1", "2022-04-01T00:00:00Z", 20220401])
def test_date_is_a_real_calendar_day(value: object) -> None:
    with pytest.raises(ValueError):
        f.Date().validate(value)


@pytest.mark.parametrize(
    "value",
    [{"en": "Hello"}, {"zh-CN": ""}, {"zh-CN": "好", "not a tag": "x"}, ["zh-CN"], "好"],
)
def test_language_map_needs_chinese_and_real_tags(value: object) -> None:
    with pytest.raises(ValueError):
        f.LangMap().validate(value)


def test_nullable_enum_schema_admits_null() -> None:
    schema = f.Nullable(f.Enum(("a", "b"))).json_schema()
    Draft202012Validator(schema).validate(None)
    assert schema["type"] == ["string", "null"]


def test_refs_are_found_plain_nullable_and_in_lists() -> None:
    fields = {
        "a": f.Ref("compound"),
        "b": f.Nullable(f.Ref("building", same=("compound_id",))),
        "c": f.ListOf(f.Ref("compound")),
        "d": f.Uuid(),
    }
    assert {name: ref.type for name, ref in f.refs(fields).items()} == {
        "a": "compound",
        "b": "building",
        "c": "compound",
    }
