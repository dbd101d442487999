"""What every request carries for the logs, the metrics and error bodies.

A request id: the client's or proxy's ``X-Request-Id`` when it is sane
(1–128 letters, digits and ``._:-``, which covers UUIDs and nginx's
``$request_id``), else a new random one; it is echoed in the response's
``X-Request-Id`` header, in every problem+json body (``"request_id"``) and
in every log line written while the request runs. And the request's start,
for durations.

Every request runs these, so each reads ``g`` and ``request`` (proxies,
about a microsecond a look) as few times as it can, and a header from the
WSGI environment: werkzeug's ``request.headers.get`` raises and catches an
exception for a header the request lacks (issue #16).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

from flask import Flask, Response, after_this_request, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-Id"
#: Where the WSGI environment holds the request's ``X-Request-Id`` (PEP 3333).
REQUEST_ID_ENVIRON = "HTTP_X_REQUEST_ID"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# A request that matched no route is labelled this, never by its raw path:
# paths are unbounded (and a scanner's would flood the metrics).
UNMATCHED = "unmatched"


def request_id() -> str | None:
    """Return the current request's id (``None`` outside a request)."""
    if not has_request_context():
        return None
    known: str | None = g.get("request_id")
    if known is None:
        offered = request.environ.get(REQUEST_ID_ENVIRON, "")
        known = offered if SANE_REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        g.request_id = known
    return known


def elapsed_seconds() -> float:
    """Return the seconds since the current request started (0 if it was not timed)."""
    started = g.get("started_at")
    return 0.0 if started is None else time.perf_counter() - started


def endpoint_label() -> str:
    """Return the current request's URL rule (``/api/v1/users/<int:user_id>``), not its path."""
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED


def start_request() -> None:
    """Note when the request started and fix its id."""
    g.started_at = time.perf_counter()
    request_id()


def echo_request_id(response: Response) -> Response:
    """Put the request id on the response."""
    response.headers[REQUEST_ID_HEADER] = request_id() or ""
    return response


def when_sent(callback: Callable[[], object]) -> None:
    """Call ``callback`` once this request's response has been sent.

    The WSGI server closes a response after writing it (PEP 3333,
    :meth:`~flask.Response.call_on_close`); the request's context is gone by
    then. Needs a request context, before its ``after_request`` hooks run.
    """

    @after_this_request
    def on_sent(response: Response) -> Response:
        response.call_on_close(callback)
        return response


def init_app(app: Flask) -> None:
    """Register the hooks; call before any blueprint, so that every request is timed.

    Flask runs ``before_request`` functions in the order they were
    registered, and one that raises (a 413, a 426) stops the rest.
    """
    app.before_request(start_request)
    app.after_request(echo_request_id)
