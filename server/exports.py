"""The export endpoint: a dataset as CSV or XLSX, streamed (contract, "Exports").

``GET /api/v1/exports/{dataset}.{csv|xlsx}[?compound_id=...]``, and a
dataset's declared ``filters`` as further query parameters (a round's
picking list: ``?supply_round_id=...``). The records
are read :data:`PAGE` at a time from one statement and each goes through
:func:`sync.visibility.view`, the one function every path that hands out
records uses, so an export holds what the caller could pull, with the same
field visibility; no page outlives the rows written from it.

CSV is written as it is read: UTF-8 with a byte order mark (a spreadsheet on
a Chinese-language desktop otherwise guesses GBK) and a header row. XLSX is
written by XlsxWriter in ``constant_memory`` mode, which flushes each row to
a temporary file, then the finished file is sent in chunks.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

import xlsxwriter
from flask import Blueprint, Response, request, stream_with_context
from sqlalchemy import select

from server import scopes
from server.auth import current_actor, require_auth
from server.clock import utcnow
from server.errors import ApiError
from server.extensions import db
from server.models import RecordRow
from server.models.expressions import FieldText
from server.store import RECORD_COLUMNS, in_scope, to_record
from sync.actors import Actor, UserScope
from sync.catalog import REGISTRY
from sync.exports import DATASETS, Cell, Dataset, Row
from sync.records import Record
from sync.visibility import view

bp = Blueprint("exports", __name__, url_prefix="/api/v1/exports")

#: Records read a statement: few enough that a page is small, many enough to be quick.
PAGE = 1000
#: Bytes sent a chunk of a finished XLSX file.
CHUNK_BYTES = 64 * 1024
#: A spreadsheet runs a text cell beginning with these as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@bp.get("/<dataset>.<fmt>")
@require_auth()
def export(dataset: str, fmt: str) -> Response:
    """Stream ``dataset`` as ``fmt`` for the caller.

    :raises ApiError: 404 for an unknown dataset or format, 403 for a role
        that may not export it or a ``compound_id`` outside the caller's scope.
    """
    declared = DATASETS.get(dataset)
    if declared is None or fmt not in MEDIA_TYPES:
        raise ApiError(404, "unknown-export", f"There is no export {dataset}.{fmt}.")
    if current_actor().role not in declared.roles:
        raise ApiError(403, "forbidden-role", "Your role may not export this dataset.")
    actor = current_actor()
    scope = narrowed(actor.scope, request.args.get("compound_id"))
    only = {name: request.args[name] for name in sorted(declared.filters) if name in request.args}
    header, rows = table(declared, Actor(actor.user_id, actor.role, scope), only)
    body = csv_chunks(header, rows) if fmt == "csv" else xlsx_chunks(dataset, header, rows)
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    response = Response(stream_with_context(body), content_type=MEDIA_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{dataset}-{stamp}.{fmt}"'
    response.headers["X-Export-Records"] = str(count(declared, scope, only))
    return response


def narrowed(scope: UserScope, compound_id: str | None) -> UserScope:
    """Return ``scope`` narrowed to one compound, if asked.

    :raises ApiError: 403 when ``compound_id`` lies outside ``scope``.
    """
    if compound_id is None:
        return scope
    if scope.everything or compound_id in scope.compound_ids:
        return UserScope(compound_ids=frozenset({compound_id}))
    buildings = scopes.buildings_of(frozenset({compound_id})) & scope.building_ids
    if not buildings:
        raise ApiError(403, "outside-scope", "That compound is outside your scope.")
    return UserScope(building_ids=buildings)


def table(
    dataset: Dataset, actor: Actor, only: Mapping[str, str]
) -> tuple[tuple[str, ...], Iterator[Row]]:
    """Return the header and the rows of ``dataset`` as ``actor`` may see them.

    :param only: field → value, of ``dataset.filters``: the records to keep.
    """
    rtype = REGISTRY.get(dataset.record_type)
    columns = dataset.columns_for(actor.role, rtype)
    now = utcnow()
    seen = (
        shown
        for record in stored(dataset, actor.scope, only)
        if (shown := view(record, actor, REGISTRY, now)) is not None
    )
    return dataset.header(columns), dataset.rows(seen, columns)


def conditions(dataset: Dataset, scope: UserScope, only: Mapping[str, str]) -> list[Any]:
    """Return the SQL conditions of the live records of ``dataset`` in ``scope`` (and ``only``)."""
    found = [RecordRow.type == dataset.record_type, RecordRow.deleted.is_(False)]
    if not scope.everything:
        found.append(in_scope(RecordRow.version, scope))
    found += [FieldText(RecordRow.fields, name) == value for name, value in only.items()]
    return found


def count(dataset: Dataset, scope: UserScope, only: Mapping[str, str]) -> int:
    """Return how many records ``dataset`` reads in ``scope`` (for a progress bar)."""
    statement = select(db.func.count()).select_from(RecordRow)
    return int(db.session.scalar(statement.where(*conditions(dataset, scope, only))) or 0)


def stored(dataset: Dataset, scope: UserScope, only: Mapping[str, str]) -> Iterator[Record]:
    """Yield the live records of ``dataset`` in ``scope``, fetched :data:`PAGE` at a time.

    One statement, so one consistent snapshot; ``yield_per`` streams it (a
    server-side cursor on PostgreSQL). In the order of ``dataset.sort_field``
    then id, or by id.
    """
    order = [RecordRow.id]
    if dataset.sort_field:
        order.insert(0, db.func.coalesce(FieldText(RecordRow.fields, dataset.sort_field), ""))
    statement = (
        select(*RECORD_COLUMNS)
        .where(*conditions(dataset, scope, only))
        .order_by(*order)
        .execution_options(yield_per=PAGE)
    )
    for row in db.session.execute(statement):
        yield to_record(row)


def text_of(value: Cell) -> str:
    """Return a cell as text: lists joined by ``; ``, objects as JSON, ``None`` empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return "; ".join(value)  # type: ignore[arg-type]
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def inert(text: str) -> str:
    """Return text a spreadsheet will not run as a formula (a leading ``'``)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_cell(value: Cell) -> str:
    """Return a CSV cell: text, with text that looks like a formula made inert."""
    text = text_of(value)
    return inert(text) if isinstance(value, str) else text


def csv_chunks(header: tuple[str, ...], rows: Iterable[Row]) -> Iterator[bytes]:
    """Yield a CSV file in chunks: the BOM and header, then a chunk per :data:`PAGE` rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(header)
    for index, row in enumerate(rows, start=1):
        writer.writerow([csv_cell(value) for value in row])
        if index % PAGE == 0:
            yield take(buffer)
    yield take(buffer)


def take(buffer: io.StringIO) -> bytes:
    """Return what ``buffer`` holds as UTF-8 and empty it."""
    data = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return data


def xlsx_chunks(title: str, header: tuple[str, ...], rows: Iterable[Row]) -> Iterator[bytes]:
    """Yield an XLSX workbook of one sheet, written in constant memory, in chunks."""
    with tempfile.TemporaryFile() as target:
        write_xlsx(target, title, header, rows)
        target.seek(0)
        while chunk := target.read(CHUNK_BYTES):
            yield chunk


def write_xlsx(
    target: IO[bytes], title: str, header: tuple[str, ...], rows: Iterable[Row]
) -> None:
    """Write the workbook to ``target``; numbers stay numbers, the rest is text."""
    workbook = xlsxwriter.Workbook(target, {"constant_memory": True, "strings_to_formulas": False})
    sheet = workbook.add_worksheet(title[:31])
    sheet.write_row(0, 0, header)
    for index, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            if isinstance(value, int | float) and not isinstance(value, bool):
                sheet.write_number(index, column, value)
            elif value is not None:
                sheet.write_string(index, column, text_of(value))
    workbook.close()
