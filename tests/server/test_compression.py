"""Large JSON answers are gzipped for clients that accept it."""

from __future__ import annotations

import gzip
import json

from tests.helpers import bearer, sign_in

PULL = "/api/v1/sync/pull?cursor=0&limit=1000"


def test_a_first_sync_page_is_gzipped_when_accepted(client):
    token = sign_in(client, "vol-a")
    plain = client.get(PULL, headers=bearer(token))
    packed = client.get(PULL, headers={**bearer(token), "Accept-Encoding": "gzip, deflate"})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    body = packed.get_data()
    assert len(body) * 4 < len(plain.get_data())
    assert json.loads(gzip.decompress(body)) == plain.get_json()


def test_small_answers_are_left_alone(client):
    reply = client.get("/api/v1/health", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in reply.headers
    assert reply.get_json()["status"] == "ok"
