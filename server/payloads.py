"""Read request bodies: JSON only, malformed is 400, invalid values are 422."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema, ValidationError

from server.errors import ApiError
from sync.wire import TEXT_RULE, unstorable_text


def json_body(*, cache: bool = True) -> Any:
    """Return the request's parsed JSON body, or raise 415 / 400.

    JSON nested deeper than the decoder's recursion limit is malformed here
    (the decoder raises ``RecursionError``, which ``silent`` does not catch).

    :param cache: keep the parsed body on the request (Flask's default), for
        another read of it; without, it lives as long as the caller keeps it,
        and the body's bytes are not kept either unless read before
        (``request.get_data()``).
    """
    if not request.is_json:
        raise ApiError(
            415,
            "unsupported-media-type",
            "Send the body as application/json.",
        )
    try:
        body = request.get_json(silent=True, cache=cache)
    except RecursionError:
        body = None
    if body is None:
        raise ApiError(400, "malformed-json", "The body is not valid JSON.")
    return body


def load_body(schema: Schema) -> Any:
    """Parse the JSON body and load it through ``schema``.

    :raises ApiError: 400 if it is not a JSON object.
    :raises marshmallow.ValidationError: (answered 422) on bad values, and
        on a string that cannot be stored (:func:`sync.wire.unstorable_text`).
    """
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "malformed-request", "The body must be a JSON object.")
    where = unstorable_text(body)
    if where is not None:
        raise ValidationError({where: [TEXT_RULE]})
    return schema.load(body)
