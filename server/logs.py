"""Structured logs: one JSON line per request and one per push.

:func:`configure` (called by the ``weiguang`` console script before any
command runs) sends every log record to standard error as one JSON object
per line, formatted by python-json-logger: ``time`` (ISO 8601, UTC),
``level``, ``logger``, ``message``, ``request_id`` inside a request, and the
fields a call passes in ``extra``.

What the lines carry is chosen here, field by field, and nothing else is
written: per request (logger ``weiguang.request``) the method, URL rule,
path, status, duration, user and device ids; per push (``weiguang.push``)
the user and device ids, changeset and change counts, the results by code,
the cursor and the duration. Never a header, a query string, a body or a
record's fields — so never a token, a password or a resident's personal
data; SQL parameters are kept out of error messages too
(``hide_parameters``, :func:`server.database.engine_options`).
"""

from __future__ import annotations

import functools
import logging
import sys
from typing import IO, Any

from flask import Flask, Response, g, request
from pythonjsonlogger.json import JsonFormatter

from server.extensions import socketio
from server.metrics import ResultCounts
from server.request_context import elapsed_seconds, endpoint_label, request_id, when_sent
from sync.protocol import PushOutcome

REQUEST_LOGGER = logging.getLogger("weiguang.request")
PUSH_LOGGER = logging.getLogger("weiguang.push")


class RequestIdFilter(logging.Filter):
    """Add the current request's id to every record logged while it runs."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Stamp ``record`` with ``request_id`` inside a request; let every record through."""
        rid = request_id()
        if rid is not None:
            record.request_id = rid
        return True


def json_formatter() -> JsonFormatter:
    """Return the formatter of Weiguang's log lines."""
    return JsonFormatter(
        "{levelname}{name}{message}",
        style="{",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
        json_ensure_ascii=False,
    )


def configure(stream: IO[str] | None = None, level: int = logging.INFO) -> None:
    """Send every log record to ``stream`` (standard error) as a JSON line.

    Replaces the root logger's handlers, so that call it once, at the
    entry point, never on import.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


def user_fields() -> dict[str, Any]:
    """Return the signed-in user's and device's ids, if the request had a token.

    Read from the request's identity (:mod:`server.sign_ins`), which needs no
    database: the request may have ended its session (a logout) before its
    line is written.
    """
    identity = g.get("identity")
    if identity is None:
        return {}
    return {"user_id": identity.user_id, "device_id": identity.device_id}


def duration_ms() -> float:
    """Return the request's duration so far, in milliseconds."""
    return round(elapsed_seconds() * 1000, 1)


def write_once_sent(
    logger: logging.Logger,
    message: str,
    extra: dict[str, Any],
    response: Response | None = None,
) -> None:
    """Log ``message`` with ``extra`` at INFO; under eventlet, once the answer has gone out.

    Under eventlet (``weiguang serve``) the line is written when the WSGI
    server closes the response (``response``, else the request's own),
    after sending it (:meth:`~flask.Response.call_on_close`): the two lines
    of a push written before its answer kept the client waiting, those of
    an empty pull 0.09 ms more, a tenth of its time (issue #16). Other
    async modes (tests, debugging) write it at once. Needs a request context.
    """
    if socketio.server.eio.async_mode != "eventlet":
        logger.info(message, extra=extra)
        return
    rid = request_id()
    if rid is not None:  # the request's context is gone when the line is written
        extra["request_id"] = rid
    write = functools.partial(logger.info, message, extra=extra)
    if response is None:
        when_sent(write)
    else:  # from an ``after_request`` hook, too late for :func:`when_sent`
        response.call_on_close(write)


def log_request(response: Response) -> Response:
    """Write the request's line (an ``after_request`` hook), once ``response`` has gone out.

    Its fields are gathered now (``duration_ms``: the time to the response),
    and only if the line is written: where logging is not set up
    (:func:`configure`), gathering them for nothing cost 2-3 % of an empty
    pull's CPU (issue #16). Written by :func:`write_once_sent`.
    """
    if not REQUEST_LOGGER.isEnabledFor(logging.INFO):
        return response
    extra = {
        "method": request.method,
        "endpoint": endpoint_label(),
        "path": request.path,
        "status": response.status_code,
        "duration_ms": duration_ms(),
        **user_fields(),
    }
    write_once_sent(REQUEST_LOGGER, "request", extra, response)
    return response


def log_push(outcome: PushOutcome, counts: ResultCounts) -> None:
    """Write a committed push's line: counts and result codes, never contents.

    :param counts: :func:`server.metrics.result_counts` of ``outcome``.

    Its fields are gathered only if the line is written, as the request's
    (:func:`log_request`): 15 us of a single-change push where logging is
    not set up (issue #16). Written by :func:`write_once_sent`, before the
    request's line.
    """
    if not PUSH_LOGGER.isEnabledFor(logging.INFO):
        return
    changesets, changes = counts
    extra = {
        **user_fields(),
        "changesets": len(outcome.results),
        "changes": changes.total(),
        "changeset_results": dict(changesets),
        "change_results": dict(changes),
        "cursor": outcome.cursor,
        "duration_ms": duration_ms(),
    }
    write_once_sent(PUSH_LOGGER, "push", extra)


def init_app(app: Flask) -> None:
    """Log every request."""
    app.after_request(log_request)
