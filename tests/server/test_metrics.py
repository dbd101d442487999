"""Prometheus metrics: who may read them, and that they count what happened."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from server.extensions import socketio
from tests.conftest import make_app
from tests.helpers import bearer, sign_in
from tests.server.test_sync_api import (
    COMPOUND_B,
    PULL,
    a_changeset,
    a_task,
    create,
    pull_all,
    push,
    update,
)

METRICS = "/metrics"
STRANGER = {"REMOTE_ADDR": "203.0.113.9"}  # TEST-NET-3: never a loopback address


def scrape(client):
    """Return every sample of ``/metrics`` as ``{(name, labels): value}``."""
    reply = client.get(METRICS)
    assert reply.status_code == 200, reply.get_data(as_text=True)
    assert reply.content_type.startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(reply.get_data(as_text=True))
        for sample in family.samples
    }


def delta(before, after, name, **labels):
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def deltas_of(before, after, name, label):
    """Return ``{label value: increase}`` of every series of ``name`` that moved."""
    moved = {}
    for (sample, labels), value in after.items():
        if sample == name and value != before.get((sample, labels), 0.0):
            moved[dict(labels)[label]] = value - before.get((sample, labels), 0.0)
    return moved


def test_loopback_reads_the_metrics_without_a_token(client):
    samples = scrape(client)
    assert ("weiguang_pushes_total", ()) in samples
    assert ("weiguang_sockets_connected", ()) in samples
    assert any(name == "process_resident_memory_bytes" for name, _ in samples)


@pytest.mark.parametrize(
    ("configured", "offered", "status"),
    [
        (None, None, 403),
        (None, "anything", 403),
        ("s3cret-metrics", None, 401),
        ("s3cret-metrics", "wrong", 401),
        ("s3cret-metrics", "s3cret-metric", 401),
        ("s3cret-metrics", "s3cret-metrics", 200),
    ],
)
def test_others_need_the_configured_metrics_token(sqlite_url, configured, offered, status):
    app = make_app(sqlite_url, METRICS_TOKEN=configured)
    headers = bearer(offered) if offered else {}
    reply = app.test_client().get(METRICS, headers=headers, environ_base=STRANGER)
    assert reply.status_code == status
    if status != 200:
        assert reply.content_type == "application/problem+json"
        assert reply.get_json()["status"] == status
        assert "weiguang_" not in reply.get_data(as_text=True)


def a_household(client, token):
    """Return the fields of a new household in one of the caller's buildings."""
    building = next(r for r in pull_all(client, token)[0] if r["type"] == "building")
    return {
        "compound_id": building["fields"]["compound_id"],
        "building_id": building["id"],
        "unit": "1",
        "floor": 3,
        "room": "302",
    }


# One kind of changeset each, as the volunteer of compound A pushes it, by the
# result the counters must show for it.
KINDS = {
    "applied": lambda household: [create("household", household)],
    "forbidden": lambda household: [create("task", a_task()), create("household", household)],
    "invalid": lambda household: [{**create("household", household), "op": "upsert"}],
    "not_found": lambda household: [update("household", str(uuid.uuid4()), 0, room="1")],
}


def test_push_counters_move_by_the_outcomes(client):
    vol_a = sign_in(client, "vol-a")
    household = a_household(client, vol_a)
    before = scrape(client)
    push(client, vol_a, *(a_changeset(*KINDS[kind](household)) for kind in sorted(KINDS)))
    after = scrape(client)
    assert delta(before, after, "weiguang_pushes_total") == 1
    assert deltas_of(before, after, "weiguang_changesets_total", "result") == {
        "applied": 1,
        "forbidden": 1,
        "invalid": 1,
        "not_found": 1,
    }
    assert deltas_of(before, after, "weiguang_changes_total", "result") == {
        "applied": 1,
        "forbidden": 1,
        "aborted": 1,
        "invalid": 1,
        "not_found": 1,
    }
    assert delta(before, after, "weiguang_conflicts_total") == 0


def test_a_concurrent_edit_counts_one_conflict_and_one_merged_change(client):
    coord, vol_a = sign_in(client, "coord"), sign_in(client, "vol-a")
    task = create("task", a_task())
    push(client, coord, a_changeset(task))
    claim = update("task", task["id"], 0, status="claimed")
    version = push(client, vol_a, a_changeset(claim))["cursor"]
    push(
        client,
        coord,
        a_changeset(
            update("task", task["id"], version, notes="门口放"), made_at="2022-04-02T11:00:00.000Z"
        ),
    )
    before = scrape(client)
    late = a_changeset(
        update("task", task["id"], version, notes="敲门"), made_at="2022-04-02T10:30:00.000Z"
    )
    assert push(client, vol_a, late)["results"][0]["changes"][0]["status"] == "merged"
    after = scrape(client)
    assert delta(before, after, "weiguang_conflicts_total") == 1
    assert deltas_of(before, after, "weiguang_changes_total", "result") == {"merged": 1}
    resolve_before = after
    conflict = next(r for r in pull_all(client, coord)[0] if r["type"] == "conflict")
    push(
        client,
        coord,
        a_changeset(update("conflict", conflict["id"], conflict["version"], resolved=True)),
    )
    assert delta(resolve_before, scrape(client), "weiguang_conflicts_total") == 0


@settings(
    max_examples=15,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(kinds=st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=6))
def test_counters_agree_with_every_push_response(client, kinds):
    token = sign_in(client, "vol-a")
    household = a_household(client, token)
    before = scrape(client)
    reply = push(client, token, *(a_changeset(*KINDS[kind](household)) for kind in kinds))
    after = scrape(client)
    changes = Counter(
        change["conflict"]["code"] if change["status"] == "rejected" else change["status"]
        for result in reply["results"]
        for change in result["changes"]
    )
    assert deltas_of(before, after, "weiguang_changesets_total", "result") == Counter(kinds)
    assert deltas_of(before, after, "weiguang_changes_total", "result") == changes
    assert delta(before, after, "weiguang_pushes_total") == 1


def test_pulls_count_pages_and_records(client):
    token = sign_in(client, "vol-a")
    before = scrape(client)
    pages, records, cursor, more = 0, 0, 0, True
    while more:
        body = client.get(f"{PULL}?cursor={cursor}&limit=100", headers=bearer(token)).get_json()
        pages, records = pages + 1, records + len(body["changes"])
        cursor, more = body["cursor"], body["more"]
    after = scrape(client)
    assert pages > 1
    assert delta(before, after, "weiguang_pull_pages_total") == pages
    assert delta(before, after, "weiguang_pull_records_total") == records


def test_sockets_and_live_events_are_counted(app, client):
    coord, vol_a = sign_in(client, "coord"), sign_in(client, "vol-a")
    before = scrape(client)
    sockets = [
        socketio.test_client(app, flask_test_client=client, auth={"token": token})
        for token in (coord, vol_a)
    ]
    assert delta(before, scrape(client), "weiguang_sockets_connected") == 2
    before = scrape(client)
    push(client, coord, a_changeset(create("task", a_task())))
    after = scrape(client)
    emitted = delta(before, after, "weiguang_live_events_total")
    assert emitted >= 2  # the volunteers' and the coordinators' rooms of compound A at least
    assert delta(before, after, "weiguang_live_event_lag_seconds_count") == emitted
    push(client, vol_a, a_changeset(create("task", a_task(COMPOUND_B))))
    assert delta(after, scrape(client), "weiguang_live_events_total") == 0, "nothing written"
    sockets[0].disconnect()
    assert scrape(client)[("weiguang_sockets_connected", ())] == 1
    sockets[1].disconnect()


def test_request_latency_is_labelled_by_url_rule_never_by_raw_path(client):
    raw = f"/api/v1/no-such-thing/{uuid.uuid4().hex}"
    assert client.get(raw).status_code == 404
    assert client.get("/app/not-there-either.js").status_code in (200, 404)
    client.get("/api/v1/health")
    text = client.get(METRICS).get_data(as_text=True)
    samples = scrape(client)
    endpoints = {
        dict(labels)["endpoint"]
        for name, labels in samples
        if name == "weiguang_http_request_duration_seconds_count"
    }
    assert {"/api/v1/health", "unmatched", "/<webpath:path>"} <= endpoints
    assert raw not in text and "not-there-either" not in text
