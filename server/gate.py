"""Gate endpoints: printed pass sheets per building, and one resident's own pass.

Printing a building's sheet issues a new resident pass to every resident of
the building through the engine (a push by the coordinator: signed, scoped,
audited like any), which revokes each resident's previous pass (contract,
"Gate passes"): a reprinted sheet makes the last one worthless. A single
pass is printed as it is, without reissuing.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response

from server import live, pass_sheets, queries, sync_api
from server.auth import current_actor, require_auth
from server.clock import utcnow
from server.errors import ApiError
from server.payloads import load_body
from server.schemas.gate import PASS_SHEET
from server.store import SqlStore
from sync.actors import Actor, Role
from sync.changes import Change, Changeset, ChangesetStatus, Push
from sync.field import day_of
from sync.records import Record
from sync.times import format_datetime, parse_datetime

bp = Blueprint("gate", __name__, url_prefix="/api/v1/gate")

#: What a sheet says, in Chinese and English (the printed pass is read by
#: residents and guards alike).
KINDS = {
    "resident": "居民通行证 Resident",
    "medical_exit": "就医外出 Medical",
    "worker": "保供 Worker",
}
LABELS = {"valid_until": "有效期至 Valid until"}


@bp.post("/sheets")
@require_auth(Role.COORDINATOR)
def sheets() -> Any:
    """Issue new passes to a building's residents and return them as an A4 PDF."""
    args = load_body(PASS_SHEET)
    actor = current_actor()
    building = visible(actor, str(args["building_id"]), "building")
    residents = [
        r
        for r in queries.live_records("resident", actor.scope, building.scope.compound_ids)
        if r.fields.get("building_id") == building.id
    ]
    until = format_datetime(args["valid_until"])
    changes = tuple(
        Change(
            "gate_pass",
            str(uuid.uuid4()),
            "create",
            0,
            {"resident_id": r.id, "kind": "resident", "valid_until": until},
        )
        for r in residents
    )
    outcome, prev, _ = sync_api.apply_and_commit(
        Push("", (Changeset(str(uuid.uuid4()), utcnow(), changes),))
    )
    live.announce_soon(outcome, prev)
    (result,) = outcome.results
    if result.status is not ChangesetStatus.APPLIED:
        fault = next(c for c in result.changes if c.conflict and c.conflict.code != "aborted")
        raise ApiError(422, "passes-not-issued", f"The passes were not issued: {fault.conflict}")
    issued = {change.id for change in changes}
    passes = [r for r in outcome.written if r.id in issued]
    return pdf_response(sheet_title(building), passes, f"passes-{building.fields['number']}.pdf")


@bp.get("/passes/<pass_id>.pdf")
@require_auth(Role.COORDINATOR, Role.GUARD)
def own_pass(pass_id: str) -> Any:
    """Return one resident's pass as a printable PDF (a resident's own pass)."""
    record = visible(current_actor(), pass_id, "gate_pass")
    return pdf_response(str(record.fields.get("address", "")), [record], f"pass-{pass_id}.pdf")


def last_day(valid_until: str) -> str:
    """Return the neighbourhood's day (``YYYY-MM-DD``) of a pass's last valid millisecond.

    A pass is valid before ``valid_until`` (``sync.gate``); a sheet prints
    the day of the neighbourhood (``sync.field.day_of``), not the UTC one,
    a day behind for an end between 00:00 and 08:00 there.
    """
    return day_of(parse_datetime(valid_until) - timedelta(milliseconds=1)).isoformat()


def visible(actor: Actor, record_id: str, type_: str) -> Record:
    """Return a live record of ``type_`` in the caller's scope; 404 otherwise."""
    record = SqlStore.for_reading().get(record_id)
    if record is None or record.deleted or record.type != type_ or not actor.sees(record.scope):
        raise ApiError(404, "not-found", f"No such {type_}.")
    return record


def sheet_title(building: Record) -> str:
    """Return a sheet's heading: the compound's and the building's names."""
    compound = SqlStore.for_reading().get(str(building.fields["compound_id"]))
    name = compound.fields.get("name", "") if compound is not None else ""
    return f"{name} {building.fields['name']}".strip()


def pdf_response(title: str, passes: list[Record], filename: str) -> Response:
    """Return ``passes`` laid out on A4 as a PDF download, by address."""
    printed = [
        pass_sheets.PrintedPass(
            str(p.fields["token"]),
            str(p.fields.get("initials") or ""),
            str(p.fields.get("address") or ""),
            KINDS[str(p.fields["kind"])],
            last_day(str(p.fields["valid_until"])),
        )
        for p in sorted(passes, key=lambda p: str(p.fields.get("address")))
    ]
    pdf = pass_sheets.sheet_pdf(title, printed, LABELS)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
