"""The app's JSON provider reads every request body as the standard library does (issue #16)."""

from __future__ import annotations

import json

from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from server.jsontext import JSONProvider

PROVIDER = JSONProvider(Flask(__name__))
# Integers of every size (orjson reads those past 64 bits as floats), floats
# NaN and infinities included, text with any code point, surrogates too.
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**30])
    | st.floats()
    | st.text()
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def outcome(parse, body: bytes) -> str:
    """Return ``repr`` of what ``parse`` makes of ``body``, or the name of what it raised."""
    try:
        return repr(parse(body))
    except (ValueError, RecursionError) as error:
        return type(error).__name__


@settings(max_examples=400)
@given(value=VALUES, ascii_only=st.booleans(), spaced=st.booleans())
def test_a_body_parses_to_what_json_loads_makes_of_it(value, ascii_only, spaced):
    separators = (", ", ": ") if spaced else (",", ":")
    text = json.dumps(value, ensure_ascii=ascii_only, separators=separators)
    body = text.encode("utf-8", "surrogatepass")
    assert outcome(PROVIDER.loads, body) == outcome(json.loads, body)


@given(
    body=st.sampled_from(
        [
            b'\xef\xbb\xbf{"a": 1}',  # a byte-order mark
            b'{"a": NaN, "b": -Infinity}',
            b'{"lone": "\\udc80"}',
            b'{"far": 1e400}',
            b"[" * 2000 + b"]" * 2000,
            b'{"a": 1} trailing',
            b"\xa0{}",
            b"",
            b'{"a": "\xed\xa0\x80"}',  # a surrogate's UTF-8 bytes
        ]
    )
)
def test_what_orjson_refuses_is_read_or_refused_as_before(body):
    assert outcome(PROVIDER.loads, body) == outcome(json.loads, body)
