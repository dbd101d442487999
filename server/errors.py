"""Turn every error into ``application/problem+json`` (RFC 9457).

Views raise :class:`ApiError` (or a werkzeug ``HTTPException``, or let
marshmallow's ``ValidationError`` escape); this module is the one place
that turns them into responses. No error response is HTML.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Flask, Response, current_app, json
from marshmallow import ValidationError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

from server.database import DatabaseBusy
from server.request_context import request_id

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://weiguang.invalid/problems/"
# Seconds a client waits before retrying a write the database was too busy for.
DATABASE_BUSY_RETRY_AFTER_S = 2


class ApiError(Exception):
    """An error with a status, a stable problem type and a readable detail."""

    def __init__(
        self,
        status: int,
        problem: str,
        detail: str,
        *,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.problem = problem
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra


def problem_response(
    status: int,
    problem: str,
    title: str,
    detail: str,
    *,
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """Build a problem+json response, with the request's id to quote in a report."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + problem,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    body["request_id"] = request_id()
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    response.headers.update(headers or {})
    return response


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten marshmallow's nested messages into ``{"a.b": [...]}``."""
    if isinstance(messages, list):
        if all(isinstance(m, str) for m in messages):
            return {prefix or "_schema": list(messages)}
        messages = dict(enumerate(messages))
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        flat.update(flatten_messages(value, path))
    return flat


def handle_api_error(error: ApiError) -> Response:
    """Answer an :class:`ApiError`."""
    return problem_response(
        error.status,
        error.problem,
        _title_for(error.status),
        error.detail,
        errors=error.errors,
        headers=error.headers,
        **error.extra,
    )


def handle_validation_error(error: ValidationError) -> Response:
    """Answer values that failed validation with 422 and the field messages."""
    return problem_response(
        422,
        "validation",
        _title_for(422),
        "Some values are not valid; see errors.",
        errors=flatten_messages(error.messages),
    )


def handle_http_exception(error: HTTPException) -> Response:
    """Answer werkzeug's HTTP errors (404, 405, 413, ...) as problem+json.

    The error's own headers (``Allow`` on a 405, ``Retry-After`` where set)
    are kept; only the content type changes.
    """
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    return problem_response(
        error.code or 500,
        _slug(error.name),
        error.name,
        error.description or error.name,
        headers=headers,
    )


def handle_database_busy(error: DatabaseBusy | PoolTimeout) -> Response:
    """Answer a request that waited too long for the database with 503 and ``Retry-After``.

    A write that waited for SQLite's writer lock, or any request that got no
    connection from the pool in its timeout (every connection busy: pushes
    queued behind the version sequence under load). Nothing of the request
    was written; the client retries (a push safely: contract, "Push",
    idempotent).
    """
    detail = (
        str(error)
        if isinstance(error, DatabaseBusy)
        else "every database connection was busy; try again shortly"
    )
    return problem_response(
        503,
        "database-busy",
        _title_for(503),
        detail,
        headers={"Retry-After": str(DATABASE_BUSY_RETRY_AFTER_S)},
    )


def handle_unexpected(error: Exception) -> Response:
    """Log an unexpected error and answer 500 without leaking internals."""
    current_app.logger.exception("unhandled error", exc_info=error)
    return handle_http_exception(InternalServerError())


def _title_for(status: int) -> str:
    return HTTPStatus(status).phrase


def _slug(name: str) -> str:
    return name.lower().replace(" ", "-").replace("'", "")


def init_app(app: Flask) -> None:
    """Register the handlers on ``app``."""
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(ValidationError, handle_validation_error)
    app.register_error_handler(DatabaseBusy, handle_database_busy)
    app.register_error_handler(PoolTimeout, handle_database_busy)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
