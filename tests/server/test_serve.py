"""``weiguang serve`` runs the real eventlet server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import urllib.request

import pytest

from tests.helpers import DEMO_PASSWORD
from tests.servers import TEST_SECRET_KEY, WEIGUANG


def post_json(url, body):
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return reply.status, json.load(reply)


def test_serve_answers_health_and_logs_coord_in(served):
    with urllib.request.urlopen(served.url + "/api/v1/health", timeout=5) as reply:
        assert json.load(reply)["status"] == "ok"
    status, body = post_json(
        served.url + "/api/v1/auth/login", {"username": "coord", "password": DEMO_PASSWORD}
    )
    assert status == 200
    assert body["user"]["role"] == "coordinator"


def test_serve_runs_on_eventlet_and_prints_the_url(served):
    output = served.stop()
    assert f"http://127.0.0.1:{served.port}/ (eventlet;" in output
    assert "Traceback" not in output


def a_listener(reuse_port):
    """Return a socket listening on a free port, with SO_REUSEPORT (as eventlet sets it) or not."""
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    return holder


def serve_on(port, database_url, mode):
    env = {
        **os.environ,
        "WEIGUANG_DATABASE_URL": database_url,
        "WEIGUANG_ASYNC_MODE": mode,
        "WEIGUANG_SECRET_KEY": TEST_SECRET_KEY,
    }
    # On a taken port the command must end by itself; a server that started
    # anyway would run until this timeout and fail the test.
    return subprocess.run(
        [WEIGUANG, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def assert_refused_clearly(result, port):
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert f"port {port} on 127.0.0.1 is already in use" in output
    assert f"weiguang serve --port {port + 1}" in output
    assert "serving on" not in output
    assert "Traceback" not in output


@pytest.mark.parametrize("mode", ["eventlet", "threading"])
@pytest.mark.parametrize("reuse_port", [True, False], ids=["reuseport-holder", "plain-holder"])
def test_serve_on_a_taken_port_fails_with_a_clear_message(sqlite_url, mode, reuse_port):
    with a_listener(reuse_port) as holder:
        port = holder.getsockname()[1]
        assert_refused_clearly(serve_on(port, sqlite_url, mode), port)


def test_a_second_weiguang_on_the_same_port_fails_and_the_first_keeps_serving(served, sqlite_url):
    assert_refused_clearly(serve_on(served.port, sqlite_url, "eventlet"), served.port)
    with urllib.request.urlopen(served.url + "/api/v1/health", timeout=10) as reply:
        assert json.load(reply)["status"] == "ok"


def test_more_open_connections_than_eventlets_default_pool_leave_room_for_requests(sqlite_url):
    # Each live socket holds one of the server's green threads while it is
    # open; eventlet's default pool (1,024) left none for pulls and pushes
    # once a thousand devices were connected (the load test's 502s and 504s).
    from tests.servers import ServedApp

    served = ServedApp(sqlite_url).start()
    held = []
    try:
        for _ in range(1100):
            connection = socket.create_connection(("127.0.0.1", served.port), timeout=10)
            connection.sendall(b"GET /api/v1/health HTTP/1.1\r\n")  # and never the rest
            held.append(connection)
        with urllib.request.urlopen(served.url + "/api/v1/health", timeout=30) as reply:
            assert reply.status == 200
    finally:
        for connection in held:
            connection.close()
        served.stop()
