"""Raise gate alerts when gate events land (``sync.gate.alerts_for``).

After a push that logged gate events has committed, each event is judged
against the compound's gate log around it; the alerts it raises (a fever, a
pass denied again and again, one pass at two posts within minutes) are
written as ``gate_alert`` records by the server, in a transaction of their
own, and announced like every other write: coordinators' devices get them
live over Socket.IO. Alert ids derive from the event (``alert_id``), so an
event never raises the same alert twice.
"""

from __future__ import annotations

from server import live, queries
from server.clock import utcnow
from server.extensions import db
from server.seed import SYSTEM
from server.store import SqlStore, rerun_races
from sync.changes import Change, Changeset, Push
from sync.gate import COPY_WINDOW, DENIALS_WINDOW, alert_id, alerts_for, policy_id
from sync.protocol import PushOutcome, apply_push
from sync.records import Record
from sync.times import parse_datetime

#: The fever threshold of a compound whose policy has not set one, °C.
DEFAULT_FEVER_C = 37.3
#: How far around an event the log is read (the widest alert window).
AROUND = max(DENIALS_WINDOW, COPY_WINDOW)


def may_raise(outcome: PushOutcome) -> bool:
    """Tell whether a committed push logged gate events, which may raise alerts."""
    return any(_is_event(record) for record in outcome.written)


def raise_alerts(outcome: PushOutcome) -> None:
    """Write and announce the alerts the gate events of a committed push raise.

    Run after the push's response (:func:`server.live.after_response`): the
    guard who logged the events does not wait for the gate log to be read.
    """
    events = [record for record in outcome.written if _is_event(record)]
    if not events:
        return
    changes = [
        Change("gate_alert", alert_id(event.id, str(fields["kind"])), "create", 0, fields)
        for event in events
        for fields in alerts_for(event, _around(event), _threshold(event))
    ]
    if not changes:
        return
    now = utcnow()
    db.session.commit()

    def run() -> tuple[PushOutcome, int]:
        store = SqlStore.for_writing(received_at=now, expected_writes=len(changes))
        written = apply_push(
            store, SYSTEM, Push("gate-alerts", (Changeset("", now, tuple(changes)),)), now
        )
        store.flush()
        db.session.commit()
        return written, store.started_at_version

    live.announce(*rerun_races(run))


def _is_event(record: Record) -> bool:
    """Tell whether ``record`` is a gate event still standing."""
    return record.type == "gate_event" and not record.deleted


def _around(event: Record) -> list[Record]:
    """Return the compound's gate events logged around ``event``."""
    at = parse_datetime(event.fields["scanned_at"])
    return queries.gate_log([str(event.fields["compound_id"])], at - AROUND, at + AROUND)


def _threshold(event: Record) -> float:
    """Return the fever threshold of the event's compound."""
    policy = SqlStore.for_reading().get(policy_id(str(event.fields["compound_id"])))
    value = policy.fields.get("fever_threshold_c") if policy and not policy.deleted else None
    return float(value) if isinstance(value, int | float) else DEFAULT_FEVER_C
