"""The bench's server serves and logs as ``weiguang serve`` does (``bench/serve.py``)."""

from __future__ import annotations

import json
import urllib.request

from bench import servers


def test_the_bench_server_writes_each_requests_json_line(tmp_path):
    # A request's log line is part of what a request costs the real server.
    server = servers.BenchServer(f"sqlite:///{tmp_path / 'bench.db'}").start()
    try:
        with urllib.request.urlopen(server.url + "/api/v1/health", timeout=10) as reply:
            assert reply.status == 200
        lines = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    finally:
        server.stop()
    requests = [line for line in lines if line.get("logger") == "weiguang.request"]
    assert any(line["endpoint"] == "/api/v1/health" and line["status"] == 200 for line in requests)
