"""Write every JSON response so that it can always be sent.

Characters go out as UTF-8 rather than ``\\u`` escapes (Chinese text is
half the size), which means a string holding an unpaired surrogate — legal
in JSON input, stored before the push boundary refused it, or echoed from
a request — would make the response fail to encode, a 500 for every page
that carries it. :class:`JSONProvider` writes U+FFFD in its place instead
(as a UTF-8 decoder does for bytes it cannot read), so what is stored never
stops a response.

:func:`pull_body` writes a pull page, splicing in the stored JSON text of
each record's fields where it may go out as stored; :func:`push_body` a
push answer, splicing in the text each changeset's result was recorded as.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

import orjson
from flask import current_app
from flask.json.provider import DefaultJSONProvider

from sync.protocol import PushOutcome
from sync.records import Record, StoredFields, read_json

_SURROGATE = re.compile("[\ud800-\udfff]")
# A surrogate written as an escape (``\\udc80``) in stored JSON text: spliced
# as is, it would reach the client unreplaced (and a pair, rare, is sent
# re-encoded rather than told apart from a lone one).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


# Every digit as "9", the other bytes as they are: a run of 19 nines in a
# body marks a number orjson may read otherwise than the standard library
# (an integer past 2**64 or below -2**63 becomes a float).
_DIGITS_AS_NINES = bytes.maketrans(b"012345678", b"999999999")
_LONG_DIGIT_RUN = b"9" * 19


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON provider: UTF-8 output, keys in the order given, never unencodable."""

    ensure_ascii = False
    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """Serialize ``obj``, replacing each unpaired surrogate with U+FFFD."""
        return _SURROGATE.sub("\ufffd", super().dumps(obj, **kwargs))

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse a request body: the same value as :func:`json.loads` gives, sooner.

        A body of bytes goes to orjson, in less than half the standard
        library's time (a 250-changeset push's 170 KB: 0.52 -> 0.23 ms,
        issue #16), unless it holds a run of 19 digits or more (the search
        costs 0.09 ms there): an integer orjson reads as a float may be in
        it. Whatever orjson refuses (``NaN``, an unpaired surrogate's
        escape, bytes that are not UTF-8, nesting past 1,024 levels) is
        parsed by the standard library, which decides as before
        (:func:`sync.records.read_json`).
        """
        if (
            not kwargs
            and isinstance(s, bytes)
            and _LONG_DIGIT_RUN not in s.translate(_DIGITS_AS_NINES)
        ):
            return read_json(s)
        return super().loads(s, **kwargs)


def stored_json(value: Any, default: Callable[[Any], Any] | None = None) -> str:
    """Return the JSON text a push stores for ``value`` (a JSON column's value).

    Compact UTF-8 text from orjson: for a 250-change push's 750 values
    (fields, stamps, results) about a fifth of the standard library's
    encoder's time, and Chinese text half the bytes of its ``\\u`` escapes
    (issue #16). What orjson refuses, an unpaired surrogate, an integer
    beyond 64 bits or a key that is not text, is encoded as ``json.dumps``
    encodes it. Readers parse the text (:func:`sync.records.read_json`),
    so its spacing and escapes are free to differ from the standard
    library's, as in rows written before.

    ``value`` holds no NaN or infinity, which orjson would write as
    ``null``: a push stores values its fields validated
    (:class:`sync.fields.Number` refuses them) and results built of them.

    :param default: the text of a value JSON has no type for (a time
        included), as ``json.dumps``'s ``default``; without, such a value
        raises :class:`TypeError`.
    """
    try:
        return orjson.dumps(value, default, orjson.OPT_PASSTHROUGH_DATETIME).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, default=default)


def envelope_text(record: Record) -> str:
    """Return the JSON text of ``record.envelope()``.

    Fields still as a store read them (:class:`sync.records.StoredFields`:
    :func:`sync.visibility.view` left every one of them to the caller) go
    out as their stored text, not parsed and encoded again: a first sync's
    cost was mostly that (issue #16). The text differs from a fresh
    encoding only in spacing and ``\\u`` escapes, which parse the same.
    """
    fields = record.fields
    if (
        type(fields) is StoredFields
        and not record.deleted
        and not _SURROGATE_ESCAPE.search(fields.text)
    ):
        return (
            f'{{"type":{encode_basestring(record.type)},"id":{encode_basestring(record.id)},'
            f'"version":{int(record.version)},"deleted":false,"fields":{fields.text}}}'
        )
    return str(current_app.json.dumps(record.envelope()))


def pull_body(records: Iterable[Record], rest: Mapping[str, Any]) -> bytes:
    """Return a pull answer in UTF-8: ``{"changes": [envelope, ...], **rest}`` and a newline.

    ``records`` are those the caller may receive, as :func:`sync.pull.changes_since`
    gives them; ``rest`` (``cursor``, ``more``, ...) is encoded as any answer.
    A surrogate that reached the text unreplaced becomes U+FFFD, as in
    :class:`JSONProvider`; the text is searched for one only if it fails
    to encode (a search cost about 5 % of a first sync's page).
    """
    changes = ",".join(envelope_text(record) for record in records)
    tail = current_app.json.dumps(rest)
    # ``tail`` is an object: "{...}", or "{}" when ``rest`` is empty.
    body = f'{{"changes":[{changes}]' + ("," + tail[1:] if len(tail) > 2 else "}") + "\n"
    try:
        return body.encode()
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", body).encode()


def push_body(outcome: PushOutcome, recorded: Mapping[str, str]) -> bytes:
    """Return a push answer in UTF-8: ``outcome.to_wire()`` as JSON, and a newline.

    Each result is written as the changeset log writes it (:func:`stored_json`):
    ``recorded`` maps the id of each changeset whose result this push
    recorded to that text, which goes out as is, not built and encoded a
    second time (issue #16), when the log keeps the result as sent. The
    others (replays of earlier pushes, results the log adds ``wrote`` to,
    changesets without an id) are encoded the same way here, so that a
    replay answers the very text of the first answer. A text holding a
    surrogate escape is encoded as any answer instead, for the client must
    get U+FFFD (:class:`JSONProvider`).
    """
    parts = []
    for result in outcome.results:
        text = recorded.get(result.id)
        if text is None or not result.logged_as_sent:
            text = stored_json(result.to_wire())
        parts.append(text)
    results = ",".join(parts)
    # One search of them all, nearly always in vain (a search of each cost
    # a sixth of the answer's time, issue #16); then each that has one.
    if _SURROGATE_ESCAPE.search(results):
        results = ",".join(
            current_app.json.dumps(result.to_wire()) if _SURROGATE_ESCAPE.search(text) else text
            for result, text in zip(outcome.results, parts, strict=True)
        )
    cursor = "null" if outcome.cursor is None else int(outcome.cursor)
    body = f'{{"results":[{results}],"cursor":{cursor}}}\n'
    return body.encode()
