"""``weiguang serve`` runs the real eventlet server."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.helpers import DEMO_PASSWORD
from tests.servers import ServedApp


@pytest.fixture
def served(sqlite_url):
    server = ServedApp(sqlite_url).start()
    yield server
    server.stop()


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
