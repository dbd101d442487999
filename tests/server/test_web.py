"""Serving the PWA: no answer tells what lies outside ``web/``."""

from __future__ import annotations

import os
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from server.web import WEB_ROOT

# Up to the file system's root from wherever web/ is.
ROOT_UP = "%2f".join([".."] * 12)
# Where a path may climb to: files and folders that exist outside web/, and names that don't.
TAILS = (
    *("etc/passwd", "etc/hosts", "etc/nope", "etc", "scripts/test", "scripts/run-demo"),
    *("scripts/nope", "server", "setup.cfg", "nope.cfg", "README.md", "web/index.html"),
)
SEPARATORS = ("/", "%2f", "%2F")


def answer(client, path):
    # One request id for all, so that the answers (which echo it) compare.
    with client.get(path, headers={"X-Request-Id": "compare"}) as reply:
        headers = {k: v for k, v in reply.headers.items() if k != "Date"}
        return reply.status_code, headers, reply.get_data()


@pytest.fixture
def unknown(client):
    """Return the answers to an unknown app route and to an unknown file."""
    return {False: answer(client, "/no-such-route"), True: answer(client, "/no-such-file.txt")}


def test_a_file_outside_web_answers_like_a_missing_one(client, unknown):
    assert os.path.isfile("/etc/passwd")
    passwd = f"/{ROOT_UP}%2fetc%2fpasswd"
    assert answer(client, passwd) == answer(client, passwd.replace("passwd", "nope"))
    assert answer(client, passwd) == unknown[False]
    assert answer(client, "/..%2fscripts%2ftest") == unknown[False]
    assert answer(client, "/..%2fsetup.cfg") == unknown[True]


def test_the_app_and_its_routes_are_still_served(client):
    assert answer(client, "/app/main.js")[0] == 200
    status, _, body = answer(client, "/tasks/123")
    assert status == 200
    assert b'<script type="module" src="/app/main.js">' in body


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    climb=st.lists(st.sampled_from(("..", "..", "..", ".", "app")), min_size=1, max_size=12),
    tail=st.sampled_from(TAILS),
    separators=st.lists(st.sampled_from(SEPARATORS), min_size=16, max_size=16),
)
def test_every_path_outside_web_answers_like_an_unknown_path(
    client, unknown, climb, tail, separators
):
    parts = [*climb, *tail.split("/")]
    path = parts[0] + "".join(sep + part for sep, part in zip(separators, parts[1:], strict=False))
    relative = unquote(path)
    target = os.path.normpath(os.path.join(WEB_ROOT, relative))
    assume(not (target.startswith(WEB_ROOT + os.sep) and os.path.isfile(target)))
    names_a_file = "." in os.path.basename(relative)
    assert answer(client, "/" + path) == unknown[names_a_file], path
