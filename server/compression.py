"""Gzip JSON answers for clients that accept it.

A first sync is hundreds of kilobytes of JSON and shrinks about sevenfold;
on a stairwell's one bar of signal that is the difference that matters.
"""

from __future__ import annotations

import gzip

from flask import Flask, Response, request

MIN_BYTES = 1024
# Level 3, the best of zlib's fast levels: on a first sync's 1,000-record
# pages it took about half the time of level 5 (28 against 50 ms a page of
# 470 KB, measured on the shared machine) for 10 % more bytes; level 5 took
# about a fifth of the page's server time (issue #16). Levels 4 and up
# search for longer matches, at about level 5's cost.
LEVEL = 3
COMPRESSIBLE = ("application/json", "application/problem+json")


def compress(response: Response) -> Response:
    """Gzip a large JSON response when the request accepts gzip.

    The checks go cheapest first, the request's header read from the WSGI
    environment (``server/request_context.py``): every answer passes here.
    """
    if (
        "gzip" not in request.environ.get("HTTP_ACCEPT_ENCODING", "")
        or response.mimetype not in COMPRESSIBLE
        or response.direct_passthrough
    ):
        return response
    body = response.get_data()
    if len(body) < MIN_BYTES or "Content-Encoding" in response.headers:
        return response
    response.set_data(gzip.compress(body, compresslevel=LEVEL))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response


def init_app(app: Flask) -> None:
    """Compress the app's answers."""
    app.after_request(compress)
