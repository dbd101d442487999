"""Prometheus metrics at ``GET /metrics`` (contract, "Operations").

What is counted, all per server process (``docs/deploy.md`` has the table):
pushes; changesets and changes by ``result`` (``applied``, ``merged``, or
the rejection code: for a rejected changeset the code of the change at
fault); conflict records made; pull pages and their records; live events
and their lag from the push's commit to each emit; connected sockets; and
request durations by ``endpoint`` (the URL rule, never the raw path),
``method`` and ``status`` —
plus the client library's process, platform and garbage-collector metrics
(memory, CPU, open files). Each process keeps its own registry and answers
for itself only: with several processes, scrape each one on its own port
(``docs/deploy.md``); Prometheus sums them.

The counters are observed here, in ``server/``, from what the sync engine
returns: ``sync/`` knows nothing of them.

Access: requests from a loopback address need no token; others need
``Authorization: Bearer`` with ``WEIGUANG_METRICS_TOKEN`` (401 without or
with a wrong one, 403 when no token is configured).
"""

from __future__ import annotations

import collections
import hmac
import ipaddress
from dataclasses import dataclass

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from server.errors import ApiError
from server.request_context import elapsed_seconds, endpoint_label
from sync.changes import ChangeResult, ChangesetResult, ChangesetStatus, ChangeStatus
from sync.errors import Code
from sync.protocol import PushOutcome
from sync.records import Record
from sync.store import Page

bp = Blueprint("metrics", __name__)
EXTENSION = "weiguang_metrics"
# Live events leave within milliseconds of the commit; a slow one is a problem worth a bucket.
LAG_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


@dataclass(frozen=True)
class Metrics:
    """One app's metrics and the registry that serves them."""

    registry: CollectorRegistry
    pushes: Counter
    changesets: Counter
    changes: Counter
    conflicts: Counter
    pull_pages: Counter
    pull_records: Counter
    live_events: Counter
    live_lag: Histogram
    sockets: Gauge
    request_seconds: Histogram


def new_metrics() -> Metrics:
    """Create the metrics in a registry of their own."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return Metrics(
        registry=registry,
        pushes=Counter("weiguang_pushes", "Push requests applied.", registry=registry),
        changesets=Counter(
            "weiguang_changesets", "Changesets by result.", ["result"], registry=registry
        ),
        changes=Counter("weiguang_changes", "Changes by result.", ["result"], registry=registry),
        conflicts=Counter("weiguang_conflicts", "Conflict records made.", registry=registry),
        pull_pages=Counter("weiguang_pull_pages", "Pull pages answered.", registry=registry),
        pull_records=Counter("weiguang_pull_records", "Records in pull pages.", registry=registry),
        live_events=Counter(
            "weiguang_live_events", "Live change events emitted.", registry=registry
        ),
        live_lag=Histogram(
            "weiguang_live_event_lag_seconds",
            "Seconds from a push's commit to each of its live events.",
            buckets=LAG_BUCKETS_S,
            registry=registry,
        ),
        sockets=Gauge(
            "weiguang_sockets_connected", "Socket.IO connections open.", registry=registry
        ),
        request_seconds=Histogram(
            "weiguang_http_request_duration_seconds",
            "HTTP request duration by endpoint (URL rule), method and status.",
            ["endpoint", "method", "status"],
            registry=registry,
        ),
    )


def current() -> Metrics:
    """Return the current app's metrics."""
    metrics: Metrics = current_app.extensions[EXTENSION]
    return metrics


def change_result(change: ChangeResult) -> str:
    """Return a change's result: its status, or its rejection code."""
    if change.status is ChangeStatus.REJECTED and change.conflict is not None:
        return str(change.conflict.code)
    return str(change.status)


def changeset_result(changeset: ChangesetResult) -> str:
    """Return a changeset's result: ``applied``, or the code of the change at fault."""
    if changeset.status is ChangesetStatus.APPLIED:
        return str(changeset.status)
    codes = (change_result(change) for change in changeset.changes)
    return next((code for code in codes if code != Code.ABORTED), str(Code.ABORTED))


def is_new_conflict(record: Record) -> bool:
    """Tell whether a written record is a conflict record this push made.

    A conflict record is written whole when made (every field stamped with
    its first version); marking it resolved later restamps ``resolved`` only.
    """
    if record.type != "conflict":
        return False  # before its stamps: a record's are parsed on first use (issue #16)
    made = record.stamps.get("record_id")
    return made is not None and made.version == record.version


#: :func:`result_counts`' answer: changesets by result, changes by result.
ResultCounts = tuple[collections.Counter[str], collections.Counter[str]]


def result_counts(outcome: PushOutcome) -> ResultCounts:
    """Return how many of a push's changesets, and of its changes, had each result."""
    changesets = collections.Counter(map(changeset_result, outcome.results))
    changes = collections.Counter(change_result(c) for cs in outcome.results for c in cs.changes)
    return changesets, changes


def observe_push(outcome: PushOutcome, counts: ResultCounts) -> None:
    """Count a committed push's changesets, changes and conflicts by result.

    :param counts: :func:`result_counts` of ``outcome`` (the push's log line uses it too).
    """
    metrics = current()
    metrics.pushes.inc()
    # One increment a result, not one a changeset: a push holds hundreds.
    changesets, changes = counts
    for label, count in changesets.items():
        metrics.changesets.labels(label).inc(count)
    for label, count in changes.items():
        metrics.changes.labels(label).inc(count)
    metrics.conflicts.inc(sum(1 for record in outcome.written if is_new_conflict(record)))


def observe_pull(page: Page) -> None:
    """Count a pull page and its records."""
    metrics = current()
    metrics.pull_pages.inc()
    metrics.pull_records.inc(len(page.records))


def observe_live_event(lag_seconds: float) -> None:
    """Count one emitted live event and how long after the commit it left."""
    metrics = current()
    metrics.live_events.inc()
    metrics.live_lag.observe(lag_seconds)


def observe_request(response: Response) -> Response:
    """Time the request by its URL rule (an ``after_request`` hook)."""
    current().request_seconds.labels(
        endpoint_label(), request.method, str(response.status_code)
    ).observe(elapsed_seconds())
    return response


def is_loopback(address: str | None) -> bool:
    """Tell whether ``address`` is a loopback address (127.0.0.0/8, ::1)."""
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def check_access() -> None:
    """Let loopback in; ask others for the configured metrics token (401/403)."""
    if is_loopback(request.remote_addr):
        return
    expected = current_app.config["WEIGUANG"]["METRICS_TOKEN"]
    if not expected:
        raise ApiError(
            403,
            "metrics-forbidden",
            "Metrics are served to the loopback address only: set WEIGUANG_METRICS_TOKEN.",
        )
    auth = request.authorization
    offered = auth.token if auth is not None and auth.type == "bearer" else None
    if not hmac.compare_digest((offered or "").encode(), str(expected).encode()):
        raise ApiError(
            401,
            "unauthenticated",
            "The metrics need the operator's metrics token.",
            headers={"WWW-Authenticate": 'Bearer realm="weiguang-metrics"'},
        )


@bp.get("/metrics")
def serve_metrics() -> Response:
    """Serve this process's metrics in Prometheus' text format."""
    check_access()
    return Response(generate_latest(current().registry), content_type=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    """Create the app's metrics, time its requests and serve ``/metrics``."""
    app.extensions[EXTENSION] = new_metrics()
    app.after_request(observe_request)
    app.register_blueprint(bp)
