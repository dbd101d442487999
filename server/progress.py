"""Progress per compound and building, for the coordinator's wall screen (issue 13).

``GET /api/v1/progress[?since=<ISO 8601 with a zone>]`` answers, for the
caller's scope, counts only — never a name, phone or need, so the answer
carries no personal data whatever the caller's field visibility:

.. code-block:: json

    {"since": "2022-04-01T16:00:00.000Z",
     "measures": ["households", "visited", ...],
     "places": [{"compound_id": "…", "building_id": "…", "households": 36, "visited": 20, …}],
     "hours": {"visited": [["2022-04-02T01", 12], …], …}}

``since`` defaults to :data:`DEFAULT_WINDOW` ago; the app sends the start of
the user's day. Each measure is one entry of :data:`MEASURES`: a record
type, the field values that count, and, for what happens during the day,
the field whose stamp times it (:func:`server.queries.count_by_place`). A
measure whose record type the engine does not know yet is left out of the
answer, so a feature that registers ``test_result`` or ``gate_event`` makes
its measures appear with no change here. Screening coverage counts
households, not visits, and comes from :func:`server.queries.screening_progress`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, request

from server import queries
from server.auth import current_actor, require_auth
from server.clock import utcnow
from server.errors import ApiError
from sync.actors import Role
from sync.catalog import REGISTRY
from sync.times import format_datetime, parse_datetime

bp = Blueprint("progress", __name__, url_prefix="/api/v1/progress")

#: How far back "today" reaches when the caller does not say.
DEFAULT_WINDOW = timedelta(hours=24)
#: The longest window asked for: the chart is of a day, not of the lockdown.
MAX_WINDOW = timedelta(days=7)
#: Who sees progress (product: the coordinator's view).
ROLES = frozenset({Role.COORDINATOR})


@dataclass(frozen=True)
class Measure:
    """One count of the progress screen.

    :param record_type: the records counted (live ones, in the caller's scope).
    :param where: field → the values that count.
    :param timed_by: the field whose stamp is the moment the record came to
        count (its status change, or its creation for append-only records).
    :param today: count only what happened since ``since`` (by ``timed_by``);
        else everything standing now (open requests, orders awaiting delivery).
    :param hourly: also give counts per hour since ``since``, for the chart.
    """

    record_type: str
    where: Mapping[str, frozenset[str]] = field(default_factory=dict)
    timed_by: str | None = None
    today: bool = False
    hourly: bool = False


#: The measures beside screening's, by name: the app's labels are ``progress.measure.<name>``.
MEASURES: Mapping[str, Measure] = {
    "residents": Measure("resident"),
    # Testing-round coverage: residents with a result today over residents.
    "tested": Measure(
        "test_result",
        {"outcome": frozenset({"tested", "antigen_negative", "antigen_positive"})},
        timed_by="outcome",
        today=True,
        hourly=True,
    ),
    "orders_confirmed": Measure("order", {"status": frozenset({"confirmed"})}, timed_by="status"),
    "orders_delivered": Measure(
        "order", {"status": frozenset({"delivered"})}, timed_by="status", today=True, hourly=True
    ),
    "urgent_requests": Measure(
        "med_request",
        {
            "urgency": frozenset({"urgent"}),
            "status": frozenset({"requested", "needs_call", "approved"}),
        },
    ),
    "gate_in": Measure(
        "gate_event",
        {"direction": frozenset({"in"}), "decision": frozenset({"allow"})},
        timed_by="compound_id",
        today=True,
        hourly=True,
    ),
    "gate_out": Measure(
        "gate_event",
        {"direction": frozenset({"out"}), "decision": frozenset({"allow"})},
        timed_by="compound_id",
        today=True,
        hourly=True,
    ),
    "gate_denied": Measure(
        "gate_event", {"decision": frozenset({"deny"})}, timed_by="compound_id", today=True
    ),
}
#: Screening's measures (households by building) and the hourly count of visits.
SCREENING = ("households", "visited", "no_answer")


def available() -> dict[str, Measure]:
    """Return the measures whose record type (and fields) the engine knows now."""
    return {
        name: measure
        for name, measure in MEASURES.items()
        if measure.record_type in REGISTRY
        and all(f in REGISTRY[measure.record_type].fields for f in measure.where)
    }


def window_start(value: str | None) -> datetime:
    """Return the start of the counted window from ``?since=``.

    :raises ApiError: 400 for a time without a zone or unparseable, or one
        in the future or more than :data:`MAX_WINDOW` ago.
    """
    now = utcnow()
    if value is None:
        return now - DEFAULT_WINDOW
    try:
        since = parse_datetime(value)
    except ValueError:
        raise ApiError(
            400, "invalid-since", "since must be an ISO 8601 date-time with a zone."
        ) from None
    if since > now or since < now - MAX_WINDOW:
        raise ApiError(400, "invalid-since", "since must lie within the last seven days.")
    return since


@bp.get("")
@require_auth(*ROLES)
def progress() -> dict[str, Any]:
    """Return the progress of the caller's scope since ``?since=`` (see the module doc).

    :raises ApiError: 401 without a valid token, 403 for a role other than
        coordinator, 400 for a bad ``since``.
    """
    since = window_start(request.args.get("since"))
    scope = current_actor().scope
    places: dict[tuple[str, str | None], dict[str, Any]] = {}

    def place(compound_id: str, building_id: str | None) -> dict[str, Any]:
        key = (compound_id, building_id)
        return places.setdefault(key, {"compound_id": compound_id, "building_id": building_id})

    for building in queries.screening_progress(scope, since):
        counts = place(building.compound_id, building.building_id)
        counts.update(
            households=building.households, visited=building.visited, no_answer=building.no_answer
        )
    measures = available()
    hours = {
        "visited": queries.count_by_hour("visit", scope, queries.VISIT_TIME_FIELD, since),
    }
    for name, measure in measures.items():
        within = since if measure.today else None
        for found in queries.count_by_place(
            measure.record_type, scope, measure.where, measure.timed_by, within
        ):
            place(found.compound_id, found.building_id)[name] = found.count
        if measure.hourly and measure.timed_by is not None:
            hours[name] = queries.count_by_hour(
                measure.record_type, scope, measure.timed_by, since, measure.where
            )
    return {
        "since": format_datetime(since),
        "measures": [*SCREENING, *measures],
        "places": sorted(
            places.values(), key=lambda p: (p["compound_id"], p["building_id"] or "")
        ),
        "hours": {name: [list(pair) for pair in pairs] for name, pairs in hours.items()},
    }
