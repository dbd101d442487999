"""The scale curve's bulk loader (``bench/floor.py`` ``/generate``) makes records a push could.

If the rows it makes in SQL differ from what the store writes, the scale
figures would time pulls of records the server cannot read (left out
silently) or that sit outside the change index.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from bench import floor
from server import seed
from tests.conftest import make_app
from tests.helpers import bearer, sign_in

FIELDS = {"kind": "delivery", "title": "压测：送菜上门", "status": "open", "priority": 2}


def test_generated_records_are_pulled_by_their_scope_in_version_order(database_url: str) -> None:
    app = make_app(database_url)
    app.register_blueprint(floor.bp)
    client = app.test_client()
    compound_a = seed.stable_id("compound", "A")
    coordinator = bearer(sign_in(client, "coord"))
    volunteer_b = bearer(sign_in(client, "vol-b"))
    before = client.get("/api/v1/sync/pull?cursor=0&limit=1", headers=coordinator).get_json()
    high_water = high_water_of(client, coordinator, before)

    fields = {**FIELDS, "compound_id": compound_a}
    body = {"count": 120, "type": "task", "compound_id": compound_a, "fields": fields}
    before_ms = time.time_ns() // 1_000_000
    reply = client.post("/bench/floor/generate", json=body)
    after_ms = time.time_ns() // 1_000_000
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json() == {"rows": 120, "cursor": high_water + 120}

    since = f"/api/v1/sync/pull?cursor={high_water}&limit=1000"
    page = client.get(since, headers=coordinator).get_json()
    records = page["changes"]
    assert [r["version"] for r in records] == list(range(high_water + 1, high_water + 121))
    assert {r["type"] for r in records} == {"task"}
    assert all(r["fields"] == fields and not r["deleted"] for r in records)
    assert len({r["id"] for r in records}) == 120
    # Ids as a device makes them (bench/ids.py): UUID version 7 of now, made later sort later.
    ids = [r["id"] for r in records]
    assert all(is_uuid7_made_between(i, before_ms, after_ms) for i in ids)
    assert ids == sorted(ids)
    assert page["cursor"] == high_water + 120

    # Compound B's volunteer is not told of compound A's records.
    other = client.get(f"/api/v1/sync/pull?cursor={high_water}", headers=volunteer_b).get_json()
    assert other["changes"] == []


def high_water_of(client: Any, headers: dict[str, str], first: dict[str, Any]) -> int:
    """Return the coordinator's cursor after pulling everything."""
    page = first
    while page["more"]:
        page = client.get(f"/api/v1/sync/pull?cursor={page['cursor']}", headers=headers).get_json()
    return int(page["cursor"])


def is_uuid7_made_between(text: str, first_ms: int, last_ms: int) -> bool:
    """Tell whether ``text`` is a lowercase UUID version 7 (RFC 9562 §5.7) of a ms in the span."""
    try:
        parsed = uuid.UUID(text)
    except ValueError:
        return False
    return (
        str(parsed) == text
        and (parsed.version, parsed.variant) == (7, uuid.RFC_4122)
        and first_ms <= parsed.int >> 80 <= last_ms
    )
