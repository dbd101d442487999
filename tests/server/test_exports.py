"""Exports hold exactly what the caller could pull, nothing outside the scope, streamed.

The expected contents come from the caller's own pull (the other path that
hands out records), so an export that leaks a hidden field, a record out of
scope or a deleted record, or drops one, differs from it.
"""

from __future__ import annotations

import csv
import gc
import io
import re
import threading
import uuid
import zipfile
from datetime import UTC, datetime
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server import database, seed
from server.exports import csv_cell, text_of
from server.extensions import db
from server.models import Neighbourhood
from server.store import SqlStore
from sync.actors import Role
from sync.catalog import REGISTRY
from sync.exports import DATASETS, picking_rows
from sync.records import FieldStamp, Record, Scope
from sync.supplies import order_id
from tests.conftest import make_app
from tests.helpers import DEMO_PASSWORD, bearer, sign_in

USERS = ("coord", "vol-a", "vol-b", "guard-a", "leader-a", "medic")
ROLES = {
    "coord": Role.COORDINATOR,
    "vol-a": Role.VOLUNTEER,
    "vol-b": Role.VOLUNTEER,
    "guard-a": Role.GUARD,
    "leader-a": Role.TEAM_LEADER,
    "medic": Role.CLINICIAN,
}
SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def read_csv(body: bytes) -> list[list[str]]:
    """Parse an export's CSV, checking the BOM."""
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body[3:].decode("utf-8"), newline="")))


def read_xlsx(body: bytes) -> list[list[str]]:
    """Read the first sheet of an XLSX file as text cells (inline or shared strings)."""
    book = zipfile.ZipFile(io.BytesIO(body))
    shared: list[str] = []
    if "xl/sharedStrings.xml" in book.namelist():
        strings = ElementTree.fromstring(book.read("xl/sharedStrings.xml"))
        shared = ["".join(t.text or "" for t in si.iter(f"{SHEET_NS}t")) for si in strings]
    sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))
    rows = []
    for row in sheet.iter(f"{SHEET_NS}row"):
        cells: dict[int, str] = {}
        for cell in row.iter(f"{SHEET_NS}c"):
            column = column_index(cell.get("r", "A1"))
            if cell.get("t") == "s":
                cells[column] = shared[int(cell.findtext(f"{SHEET_NS}v") or 0)]
            elif cell.get("t") == "inlineStr":
                cells[column] = "".join(t.text or "" for t in cell.iter(f"{SHEET_NS}t"))
            else:
                number = float(cell.findtext(f"{SHEET_NS}v") or 0)
                cells[column] = str(int(number)) if number.is_integer() else str(number)
        rows.append([cells.get(i, "") for i in range(max(cells, default=-1) + 1)])
    return rows


def column_index(ref: str) -> int:
    """Return the 0-based column of a cell reference such as ``AB12``."""
    letters = re.match(r"[A-Z]+", ref)
    assert letters is not None
    index = 0
    for letter in letters.group(0):
        index = index * 26 + ord(letter) - 64
    return index - 1


def pulled(client, token: str, record_type: str) -> list[dict]:
    """Return the live records of ``record_type`` the caller's pull gives."""
    records: dict[str, dict] = {}
    cursor = 0
    while True:
        page = client.get(
            f"/api/v1/sync/pull?cursor={cursor}&limit=1000&types={record_type}",
            headers=bearer(token),
        ).get_json()
        for record in page["changes"]:
            records[record["id"]] = record
        cursor = page["cursor"]
        if not page["more"]:
            break
    return [r for r in records.values() if not r["deleted"] and r["type"] == record_type]


def expected_rows(dataset: str, role: str, records: list[dict]) -> list[list[str]]:
    """Return the rows an export of ``records`` should have, as CSV text."""
    declared = DATASETS[dataset]
    columns = declared.columns_for(role, REGISTRY.get(declared.record_type))
    rows = [
        [record["id"], *(csv_cell(column.value(record["fields"])) for column in columns)]
        for record in sorted(records, key=lambda r: r["id"])
    ]
    return [list(map(str, row)) for row in rows]


def push(client, token: str, changes: list[dict], made_at: str = "2026-11-30T08:00:00Z") -> None:
    """Push ``changes`` in one changeset made at ``made_at``; it must apply."""
    changeset = {"id": str(uuid.uuid4()), "made_at": made_at, "changes": changes}
    body = {"client_id": str(uuid.uuid4()), "changesets": [changeset]}
    reply = client.post("/api/v1/sync/push", json=body, headers=bearer(token))
    result = reply.get_json()["results"][0]
    assert result["status"] == "applied", str(result["changes"])


def push_orders(client, token: str) -> None:
    """Place an order for each of three households of the caller's, two packages each."""
    supply_round = pulled(client, token, "supply_round")[0]
    packages = [
        p
        for p in pulled(client, token, "package")
        if p["fields"]["supply_round_id"] == supply_round["id"]
    ]
    households = [
        h
        for h in pulled(client, token, "household")
        if h["fields"]["compound_id"] in supply_round["fields"]["compound_ids"]
    ][:3]
    changes = [
        {
            "type": "order",
            "id": order_id(supply_round["id"], household["id"]),
            "op": "create",
            "fields": {
                "supply_round_id": supply_round["id"],
                "household_id": household["id"],
                "lines": [{"package_id": p["id"], "qty": 1 + number} for p in packages[:2]],
                "channel": "proxy",
                "status": "placed",
            },
        }
        for number, household in enumerate(households)
    ]
    # Placed while the (seeded) round was open.
    push(client, token, changes, supply_round["fields"]["opens_at"])


def push_visits(client, token: str) -> None:
    """Push three visits to households of the caller's, one with a formula-like note."""
    households = pulled(client, token, "household")[:3]
    changes = [
        {
            "type": "visit",
            "id": str(uuid.uuid4()),
            "op": "create",
            "fields": {
                "household_id": household["id"],
                "outcome": "answered",
                "present": number,
                "needs": ["药品"],
                "notes": "=HYPERLINK(1)" if number == 0 else "独居老人, 需要\n上门",
            },
        }
        for number, household in enumerate(households)
    ]
    push(client, token, changes)


@pytest.mark.parametrize(
    ("dataset", "username"),
    [
        ("residents", "coord"),
        ("visits", "coord"),
        ("tasks", "coord"),
        ("orders", "coord"),
        ("orders", "leader-a"),
    ],
)
def test_csv_export_equals_the_callers_pull(client, token_for, dataset, username):
    token = token_for(username)
    push_visits(client, token_for("vol-a"))
    push_orders(client, token_for("leader-a"))
    reply = client.get(f"/api/v1/exports/{dataset}.csv", headers=bearer(token))
    assert reply.status_code == 200
    assert reply.headers["Content-Disposition"].startswith(f'attachment; filename="{dataset}-')
    rows = read_csv(reply.data)
    declared = DATASETS[dataset]
    records = pulled(client, token, declared.record_type)
    assert records, "the demo neighbourhood has records of every seeded dataset"
    role = ROLES[username]
    assert tuple(rows[0]) == declared.header(declared.columns_for(role, None))
    assert rows[1:] == expected_rows(dataset, role, records)
    assert int(reply.headers["X-Export-Records"]) == len(records)


def test_xlsx_export_holds_the_same_cells_as_the_csv(client, token_for):
    token = token_for("coord")
    as_csv = read_csv(client.get("/api/v1/exports/tasks.csv", headers=bearer(token)).data)
    reply = client.get("/api/v1/exports/tasks.xlsx", headers=bearer(token))
    assert reply.status_code == 200
    assert reply.mimetype.endswith("spreadsheetml.sheet")
    as_xlsx = read_xlsx(reply.data)
    width = len(as_csv[0])
    assert [row + [""] * (width - len(row)) for row in as_xlsx] == [
        [cell.removeprefix("'") for cell in row] for row in as_csv
    ]


@pytest.mark.parametrize("username", USERS)
@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_who_may_export_what(client, token_for, username, dataset):
    token = token_for(username)
    for fmt in ("csv", "xlsx"):
        reply = client.get(f"/api/v1/exports/{dataset}.{fmt}", headers=bearer(token))
        declared = DATASETS[dataset]
        allowed = ROLES[username] in declared.roles
        assert reply.status_code == (200 if allowed else 403)
        first = "\ufeff" + declared.header(declared.columns)[0]
        start = first.encode() if fmt == "csv" else b"PK"
        assert reply.data.startswith(start) or not allowed
        if not allowed:
            assert reply.mimetype == "application/problem+json"


def test_unknown_dataset_or_format_and_no_token(client, token_for):
    token = token_for("coord")
    for path in ("/api/v1/exports/people.csv", "/api/v1/exports/tasks.pdf"):
        reply = client.get(path, headers=bearer(token))
        assert reply.status_code == 404
        assert reply.mimetype == "application/problem+json"
    assert client.get("/api/v1/exports/tasks.csv").status_code == 401


def compound_ids(client, token: str) -> dict[str, str]:
    """Return the demo compounds by name."""
    return {r["fields"]["name"]: r["id"] for r in pulled(client, token, "compound")}


def test_a_compound_export_holds_that_compound_only(client, token_for):
    token = token_for("coord")
    compounds = compound_ids(client, token)
    everything = read_csv(client.get("/api/v1/exports/tasks.csv", headers=bearer(token)).data)
    place = everything[0].index("compound_id")
    for compound_id in compounds.values():
        reply = client.get(
            f"/api/v1/exports/tasks.csv?compound_id={compound_id}", headers=bearer(token)
        )
        rows = read_csv(reply.data)[1:]
        assert rows == [row for row in everything[1:] if row[place] == compound_id]


def test_a_compound_outside_the_scope_is_refused(client, token_for):
    compounds = compound_ids(client, token_for("coord"))
    leader = token_for("leader-a")
    own = [
        cid
        for cid in compounds.values()
        if cid in {r["id"] for r in pulled(client, leader, "compound")}
    ]
    for compound_id in compounds.values():
        reply = client.get(
            f"/api/v1/exports/orders.csv?compound_id={compound_id}", headers=bearer(leader)
        )
        assert reply.status_code == (200 if compound_id in own else 403)


@pytest.mark.parametrize("role", list(Role))
def test_no_role_gets_a_column_of_a_field_it_may_not_see(role):
    for dataset in DATASETS.values():
        rtype = REGISTRY.get(dataset.record_type)
        if rtype is None:
            continue
        for column in dataset.columns_for(role, rtype):
            for name in column.needs:
                allowed = rtype.visibility.fields.get(name, rtype.visibility.roles)
                assert role in allowed


def test_team_leaders_never_get_needs_or_id_numbers_in_a_header():
    for dataset in DATASETS.values():
        if Role.TEAM_LEADER not in dataset.roles:
            continue
        columns = dataset.columns_for(Role.TEAM_LEADER, REGISTRY.get(dataset.record_type))
        assert {"needs", "id_number_masked", "medicine"}.isdisjoint(dataset.header(columns))


def test_every_declared_dataset_type_has_the_fields_its_columns_need():
    for dataset in DATASETS.values():
        rtype = REGISTRY.get(dataset.record_type)
        if rtype is not None:
            needed = {name for column in dataset.columns for name in column.needs}
            assert needed <= set(rtype.fields), dataset.name


def test_a_dataset_whose_type_is_not_declared_is_a_header_alone(client, token_for):
    token = token_for("coord")
    for dataset in DATASETS.values():
        if dataset.record_type in REGISTRY:
            continue
        rows = read_csv(
            client.get(f"/api/v1/exports/{dataset.name}.csv", headers=bearer(token)).data
        )
        assert rows == [list(dataset.header(dataset.columns))]


def an_order_record(household: str, status: str, lines: list[tuple[str, int]]) -> Record:
    """Return an order record of ``household`` with ``lines`` of (package, qty)."""
    fields = {
        "household_id": household,
        "status": status,
        "lines": [{"package_id": p, "qty": q} for p, q in lines],
    }
    return Record("order", str(uuid.uuid4()), 1, False, fields, {}, Scope(frozenset()))


def test_picking_list_sums_each_households_packages_over_confirmed_orders():
    orders = [
        an_order_record("h1", "confirmed", [("p1", 2), ("p2", 1)]),
        an_order_record("h1", "confirmed", [("p1", 3)]),
        an_order_record("h1", "cancelled", [("p1", 10)]),
        an_order_record("h1", "placed", [("p2", 7)]),
        an_order_record("h2", "delivered", [("p1", 4)]),
        an_order_record("h3", "confirmed", [("p2", 1)]),
    ]
    rows = list(picking_rows(orders, ()))
    assert [(h, p, q) for h, p, q, _ in rows] == [
        ("h1", "p1", 5),
        ("h1", "p2", 1),
        ("h3", "p2", 1),
    ]
    assert rows[0][3] == [orders[0].id, orders[1].id]


order_records = st.lists(
    st.tuples(
        st.sampled_from(("h1", "h2", "h3", "h4")),
        st.sampled_from(("placed", "confirmed", "cancelled", "delivered")),
        st.lists(
            st.tuples(st.sampled_from(("p1", "p2", "p3")), st.integers(1, 99)),
            min_size=1,
            max_size=3,
            unique_by=lambda line: line[0],
        ),
    ),
    max_size=30,
)


@settings(max_examples=80)
@given(order_records)
def test_picking_list_totals_equal_the_confirmed_orders(specs) -> None:
    """Per household and package, and in all: what is picked is what was confirmed."""
    orders = sorted(
        (an_order_record(*spec) for spec in specs), key=lambda o: o.fields["household_id"]
    )
    rows = list(picking_rows(orders, ()))
    confirmed: dict[tuple[str, str], int] = {}
    for order in orders:
        if order.fields["status"] == "confirmed":
            for line in order.fields["lines"]:
                key = (order.fields["household_id"], line["package_id"])
                confirmed[key] = confirmed.get(key, 0) + line["qty"]
    assert {(h, p): q for h, p, q, _ in rows} == confirmed
    assert len(rows) == len(confirmed)  # one row per household and package
    assert sum(q for _, _, q, _ in rows) == sum(confirmed.values())
    by_id = {order.id: order for order in orders}
    for household, package, _, order_ids in rows:
        assert all(by_id[i].fields["status"] == "confirmed" for i in order_ids)
        assert all(by_id[i].fields["household_id"] == household for i in order_ids)
        assert all(
            any(line["package_id"] == package for line in by_id[i].fields["lines"])
            for i in order_ids
        )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "true"),
        (3, "3"),
        (["elderly_alone", "language"], "elderly_alone; language"),
        ([{"package_id": "p", "qty": 2}], '[{"package_id":"p","qty":2}]'),
        ({"zh-CN": "通知"}, '{"zh-CN":"通知"}'),
    ],
)
def test_cells_as_text(value, text):
    assert text_of(value) == text


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_text_that_looks_like_a_formula_is_inert_in_csv(start):
    assert csv_cell(start + "SUM(A1)") == "'" + start + "SUM(A1)"
    assert csv_cell(-5) == "-5"


ROWS = 100_000
NEIGHBOURHOOD = "export-test"


@pytest.fixture(scope="module")
def big_app(tmp_path_factory):
    """An SQLite database holding :data:`ROWS` tasks of one compound."""
    folder = tmp_path_factory.mktemp("exports")
    app = make_app(f"sqlite:///{folder}/big.db")
    with app.app_context():
        database.upgrade_schema()
        write_tasks(ROWS)
        db.session.remove()
    return app


def write_tasks(count: int) -> None:
    """Write ``count`` tasks of one compound through the SQL store."""
    compound = str(uuid.uuid4())
    place = Scope(frozenset({compound}), None)
    now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    for start in range(0, count, 20_000):
        store = SqlStore.for_writing()
        if start == 0:
            fields = {"name": "大院", "neighbourhood_id": NEIGHBOURHOOD, "tier": "controlled"}
            stamps = dict.fromkeys(fields, FieldStamp(1, now, 1))
            store.put(
                Record("compound", compound, store.next_version(), False, fields, stamps, place),
                None,
            )
        for number in range(start, min(count, start + 20_000)):
            version = store.next_version()
            fields = {
                "kind": "delivery",
                "title": f"送菜到 {number} 号",
                "status": "open",
                "compound_id": compound,
                "priority": 2,
                "notes": "门口放下，电话联系 " * 4,
            }
            stamps = dict.fromkeys(fields, FieldStamp(version, now, 1))
            record = Record("task", str(uuid.uuid4()), version, False, fields, stamps, place)
            store.put(record, None)
        store.flush()
        db.session.commit()


def resident_bytes() -> int:
    """Return this process's resident set size (Linux's /proc)."""
    with open("/proc/self/status", encoding="ascii") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


class PeakResidentSize(threading.Thread):
    """Sample the resident set size every few milliseconds until stopped; keep the highest."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.highest = resident_bytes()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.005):
            self.highest = max(self.highest, resident_bytes())


#: What an export may add to the process: a page of records and the writers'
#: buffers. Holding 100,000 tasks as records would take several times this.
MEMORY_BOUND = 32 * 1024 * 1024


@pytest.mark.parametrize(("fmt", "least_size"), [("csv", 10_000_000), ("xlsx", 2_000_000)])
def test_memory_stays_flat_over_100000_rows(big_app, fmt, least_size):
    with big_app.app_context():
        if db.session.get(Neighbourhood, NEIGHBOURHOOD) is None:
            db.session.add(Neighbourhood(id=NEIGHBOURHOOD, slug="export", name="导出"))
            db.session.flush()
        seed.upsert_user("coord", DEMO_PASSWORD, NEIGHBOURHOOD)
        db.session.commit()
    client = big_app.test_client()
    token = sign_in(client, "coord")
    gc.collect()
    baseline = resident_bytes()
    sampler = PeakResidentSize()
    sampler.start()
    try:
        reply = client.get(f"/api/v1/exports/tasks.{fmt}", headers=bearer(token), buffered=False)
        size = rows = 0
        for chunk in reply.response:
            size += len(chunk)
            rows += chunk.count(b"\r\n")
        reply.close()
    finally:
        sampler.done.set()
        sampler.join()
    assert reply.status_code == 200
    if fmt == "csv":
        assert rows == ROWS + 1  # and the header
    assert size > least_size
    growth = sampler.highest - baseline
    assert growth < MEMORY_BOUND, f"grew {growth} bytes over a {size}-byte export"


def test_picking_list_export_is_the_sum_over_the_callers_confirmed_orders(client, token_for):
    token = token_for("leader-a")
    push_orders(client, token)
    placed = [o for o in pulled(client, token, "order") if o["fields"]["status"] == "placed"]
    confirm = [
        {
            "type": "order",
            "id": order["id"],
            "op": "update",
            "base_version": order["version"],
            "fields": {"status": "confirmed", "phoned": True},
        }
        for order in placed[:2]
    ]
    push(client, token, confirm)
    rows = read_csv(client.get("/api/v1/exports/picking_list.csv", headers=bearer(token)).data)
    orders = [o for o in pulled(client, token, "order") if o["fields"]["status"] == "confirmed"]
    expected = {}
    for order in orders:
        for line in order["fields"]["lines"]:
            key = (order["fields"]["household_id"], line["package_id"])
            expected[key] = expected.get(key, 0) + line["qty"]
    assert rows[0] == ["household_id", "package_id", "qty", "order_ids"]
    assert {(h, p): int(q) for h, p, q, _ in rows[1:]} == expected
    assert len(rows) - 1 == len(expected)
    assert {order["id"] for order in placed[:2]} <= {order["id"] for order in orders}


def test_a_rounds_export_holds_that_rounds_orders_only(client, token_for):
    token = token_for("leader-a")
    push_orders(client, token)
    orders = pulled(client, token, "order")
    rounds = {order["fields"]["supply_round_id"] for order in orders}
    for supply_round in (*rounds, str(uuid.uuid4())):
        reply = client.get(
            f"/api/v1/exports/orders.csv?supply_round_id={supply_round}", headers=bearer(token)
        )
        rows = read_csv(reply.data)
        assert int(reply.headers["X-Export-Records"]) == len(rows) - 1
        expected = {o["id"] for o in orders if o["fields"]["supply_round_id"] == supply_round}
        assert {row[0] for row in rows[1:]} == expected
        picking = read_csv(
            client.get(
                f"/api/v1/exports/picking_list.csv?supply_round_id={supply_round}",
                headers=bearer(token),
            ).data
        )
        listed = {order_id for row in picking[1:] for order_id in row[3].split("; ")}
        assert listed <= expected
