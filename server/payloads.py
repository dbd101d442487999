"""Read request bodies: JSON only, malformed is 400, invalid values are 422."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema

from server.errors import ApiError


def json_body() -> Any:
    """Return the request's parsed JSON body, or raise 415 / 400."""
    if not request.is_json:
        raise ApiError(
            415,
            "unsupported-media-type",
            "Send the body as application/json.",
        )
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError(400, "malformed-json", "The body is not valid JSON.")
    return body


def load_body(schema: Schema) -> Any:
    """Parse the JSON body and load it through ``schema`` (422 on bad values)."""
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "malformed-request", "The body must be a JSON object.")
    return schema.load(body)
