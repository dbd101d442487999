"""Small helpers for the browser tests: the app's screens, its device store, the server's DB."""

from __future__ import annotations

import json
import re
import sqlite3
import time
import urllib.request
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from playwright.sync_api import Page, expect

from server.seed import stable_id
from tests import reliability
from tests.helpers import DEMO_PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
UI_TIMEOUT_MS = 10_000
# The first sync of a coordinator pulls the whole neighbourhood (thousands of records).
SYNC_TIMEOUT_MS = 30_000
COMPOUND_A = stable_id("compound", "A")


def seeded_task_id(compound: str, index: int) -> str:
    """Return the id of the demo's ``index``-th task in compound ``compound``."""
    return stable_id("task", compound, index)


# -- the app -------------------------------------------------------------


def submit_sign_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Fill in and send the sign-in form."""
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def sign_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in on the sign-in screen and wait for the first sync to finish."""
    submit_sign_in(page, username, password)
    expect(page.get_by_role("heading", name=re.compile(r"^Hello, "))).to_be_visible()
    expect_synced(page)


def sign_out(page: Page) -> None:
    """Sign out from the settings screen (nothing queued: it asks nothing)."""
    go(page, "/settings")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Username")).to_be_visible()


def status_bar(page: Page) -> Any:
    return page.get_by_role("status")


def expect_synced(page: Page, timeout: int = SYNC_TIMEOUT_MS) -> None:
    """Wait until a round has run and nothing waits in the outbox."""
    bar = status_bar(page)
    expect(bar).to_contain_text("Online", timeout=timeout)
    expect(bar).to_contain_text("All changes synced", timeout=timeout)
    expect(bar).to_contain_text("Last sync", timeout=timeout)


def expect_pending(page: Page, count: int) -> None:
    changes = "1 change" if count == 1 else f"{count} changes"
    expect(status_bar(page)).to_contain_text(f"{changes} waiting to sync")


def wait_for_service_worker(page: Page) -> None:
    """Wait until the service worker controls the page (its shell is cached then)."""
    # A function, not an expression: Playwright evals expressions, which the CSP blocks.
    page.wait_for_function(
        "() => navigator.serviceWorker.controller !== null", timeout=UI_TIMEOUT_MS
    )


def go(page: Page, path: str) -> None:
    """Follow an in-app link by its hash route, as the app's own links do."""
    page.evaluate("path => { location.hash = path; }", path)


def open_task(page: Page, task_id: str) -> None:
    go(page, f"/tasks/{task_id}")
    expect(page.locator("h1")).not_to_have_text(re.compile(r"^(Tasks|Task not found)$"))


def on_task(device: Any, username: str, task_id: str, name: str | None = None) -> Page:
    """Open a device signed in as ``username`` on a task's screen."""
    page = device(name or username)
    sign_in(page, username)
    open_task(page, task_id)
    return page


def act(page: Page, action: str, text: str | None = None, label: str | None = None) -> None:
    """Take a task action (its button's name), typing ``text`` into ``label`` first."""
    if text is not None and label is not None:
        page.get_by_label(label, exact=True).fill(text)
    page.get_by_role("button", name=action, exact=True).click()


def claimed_then_offline(device: Any, task_id: str) -> tuple[Page, Page]:
    """Have ``vol-a`` claim a task and sync, open it as ``coord``, then cut both off.

    Returns (volunteer, coordinator): both hold the claimed version, so their
    next edits of the task are concurrent.
    """
    volunteer = on_task(device, "vol-a", task_id)
    act(volunteer, "Claim this task")
    expect_synced(volunteer)
    coordinator = on_task(device, "coord", task_id)
    expect(task_fact(coordinator, "Status")).to_have_text("Claimed")
    volunteer.context.set_offline(True)
    coordinator.context.set_offline(True)
    return volunteer, coordinator


def cancel_task(page: Page) -> None:
    """Cancel the task on screen, confirming when asked."""
    act(page, "Cancel task")
    act(page, "Yes, cancel the task")


def task_fact(page: Page, name: str) -> Any:
    """Return the value shown for a fact (Status, Assignee, ...) on a task screen."""
    return page.get_by_role("main").locator(f"dl.facts dt:text-is('{name}') + dd")


def sync_badge(page: Page) -> Any:
    """Return the sync badge of the record on screen (none when it is synced)."""
    return page.get_by_role("main").locator(".badge")


# -- the device store (IndexedDB) -----------------------------------------

READ_STORE = """([store, key]) => new Promise((resolve, reject) => {
  const open = indexedDB.open('weiguang');
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    const objects = db.transaction(store).objectStore(store);
    const request = key === null ? objects.getAll() : objects.get(key);
    request.onerror = () => reject(request.error);
    request.onsuccess = () => { db.close(); resolve(request.result ?? null); };
  };
})"""


#: What the device's store holds of the synced records, read through the app's db.js:
#: the record of [type, id] (a tombstone too; null when none), or with key null every one.
READ_RECORDS = """async (key) => {
  const { allRecords, getRecord, openStore } = await import('/app/db.js');
  const db = await openStore();
  try {
    return key === null ? await allRecords(db) : (await getRecord(db, key[0], key[1])) ?? null;
  } finally {
    db.close();
  }
}"""


def outbox(page: Page) -> list[dict[str, Any]]:
    """Return the device's queued changesets, in order."""
    return list(page.evaluate(READ_STORE, ["outbox", None]))


def stored_token(page: Page) -> str:
    """Return the device token the app keeps in IndexedDB."""
    return str(page.evaluate(READ_STORE, ["meta", "token"]))


# -- the server -----------------------------------------------------------


def db_path_of(sqlite_url: str) -> str:
    return sqlite_url.removeprefix("sqlite:///")


def query(db_path: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(db_path, timeout=10)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def seeded_at(db_path: str) -> datetime:
    """Return when the demo in ``db_path`` was seeded (aware UTC): its testing round's stamp.

    The demo is seeded once a session (``tests/conftest.py``), its shifts and
    round of that day: a device whose day they must be starts its clock then.
    """
    ((made_at,),) = query(
        db_path, "SELECT json_extract(stamps, '$.date[1]') FROM record WHERE type = 'test_round'"
    )
    return datetime.fromisoformat(made_at.replace("Z", "+00:00"))


def server_record(db_path: str, record_id: str) -> dict[str, Any]:
    """Return the server's row of a record: version, deleted, fields."""
    rows = query(db_path, "SELECT version, deleted, fields FROM record WHERE id = ?", record_id)
    assert len(rows) == 1, f"record {record_id}: {len(rows)} rows"
    version, deleted, fields = rows[0]
    return {"version": version, "deleted": bool(deleted), "fields": json.loads(fields)}


def high_water(db_path: str) -> int:
    """Return the last version the server handed out."""
    return int(query(db_path, "SELECT high_water FROM sync_state")[0][0])


def task_count(db_path: str, compound_id: str | None = None) -> int:
    """Return how many live tasks the server holds (in one compound, if given)."""
    sql = "SELECT fields FROM record WHERE type = 'task' AND NOT deleted"
    rows = [json.loads(fields) for (fields,) in query(db_path, sql)]
    return sum(1 for f in rows if compound_id is None or f["compound_id"] == compound_id)


def records_of_type(db_path: str, type_: str) -> list[dict[str, Any]]:
    rows = query(db_path, "SELECT fields FROM record WHERE type = ?", type_)
    return [json.loads(fields) for (fields,) in rows]


def logged_changesets(db_path: str) -> list[str]:
    """Return the id of every changeset the server recorded (once each, or it is a bug)."""
    return [row[0] for row in query(db_path, "SELECT id FROM changeset_log")]


def logged_result(db_path: str, changeset_id: str) -> dict[str, Any]:
    rows = query(db_path, "SELECT result FROM changeset_log WHERE id = ?", changeset_id)
    assert len(rows) == 1, f"changeset {changeset_id}: {len(rows)} log rows"
    return dict(json.loads(rows[0][0]))


def count_exactly_once(
    row: reliability.Row, db_path: str, queued: list[str], before: int, writes: int
) -> None:
    """Fill in the ledger row from the server's log, then assert exactly-once."""
    logged = Counter(logged_changesets(db_path))
    row.changesets = len(queued)
    row.lost = sum(1 for cs in queued if logged[cs] == 0)
    row.duplicated = sum(n - 1 for n in logged.values() if n > 1)
    row.half_applied = sum(
        1 for cs in queued if logged[cs] and logged_result(db_path, cs)["status"] != "applied"
    )
    row.diverged = int(high_water(db_path) != before + writes)
    assert (row.lost, row.duplicated, row.half_applied, row.diverged) == (0, 0, 0, 0)


def user_id(db_path: str, username: str) -> int:
    return int(query(db_path, "SELECT id FROM user_account WHERE username = ?", username)[0][0])


def api(base_url: str, method: str, path: str, token: str, body: Any = None) -> Any:
    """Call the API from Python (as another program would) and return the JSON answer."""
    request = urllib.request.Request(
        base_url + "/api/v1" + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        raw = reply.read()
    return json.loads(raw) if raw else None


def landed(page: Page, db_path: str, record_id: str, **expected: Any) -> dict[str, Any]:
    """Wait until the server holds ``record_id`` with ``expected`` fields; return its fields."""
    deadline = time.monotonic() + SYNC_TIMEOUT_MS / 1000
    while True:
        rows = query(db_path, "SELECT fields FROM record WHERE id = ?", record_id)
        fields = json.loads(rows[0][0]) if rows else {}
        if rows and all(fields.get(k) == v for k, v in expected.items()):
            return dict(fields)
        assert time.monotonic() < deadline, f"{record_id} never became {expected}: {fields}"
        page.wait_for_timeout(250)  # a poll of the server's database, not a wait for the app


def push_as(
    base_url: str, username: str, change: dict[str, Any], made_at: datetime | None = None
) -> dict[str, Any]:
    """Sign ``username`` in from Python and push ``change`` alone; return its result.

    :param made_at: when the change was made (UTC); now by default.
    """
    token = token_of(base_url, username)
    made_at_text = (made_at or datetime.now(UTC)).isoformat().replace("+00:00", "Z")
    body = {
        "client_id": str(uuid.uuid4()),
        "changesets": [{"id": str(uuid.uuid4()), "made_at": made_at_text, "changes": [change]}],
    }
    return dict(api(base_url, "POST", "/sync/push", token, body)["results"][0])


def token_of(base_url: str, username: str) -> str:
    """Sign a demo user in from Python; return the bearer token."""
    login = {"username": username, "password": DEMO_PASSWORD, "device_name": "pytest"}
    return str(api(base_url, "POST", "/auth/login", "", login)["token"])


# -- languages -----------------------------------------------------------

# A run of three or more Latin letters with a small letter in it is English left
# on screen; the brand name and acronyms (PCR, CSV: the same in every language)
# are not. Not \b: next to CJK text or a digit ("シフトMy shifts1号楼") there is
# no word boundary, so a run is bounded by any character that is not a Latin letter.
LATIN_WORD = re.compile(
    r"(?<![A-Za-z])(?!Weiguang(?![A-Za-z]))(?![A-Z]++(?![a-z]))[A-Za-z]{3,}(?![A-Za-z])"
)

# The text of an element, leaving out what is marked as another language (the language picker).
SHOWN_IN_PAGE_LANGUAGE = """element => {
  const copy = element.cloneNode(true);
  for (const other of copy.querySelectorAll('[lang]')) {
    if (other.lang !== document.documentElement.lang) other.remove();
  }
  return copy.textContent;
}"""

# How long a screen may take to finish drawing in its language (cards fill in as they load).
SETTLE_S = 10


def english_left(page: Page, region: str) -> str:
    """Return ``region``'s text once it shows no Latin word, or at the deadline.

    A screen draws its cards as their records load, so the text is read
    until it settles; one that keeps an English word fails at the deadline.
    """
    deadline = time.monotonic() + SETTLE_S
    while True:
        text = page.locator(region).evaluate(SHOWN_IN_PAGE_LANGUAGE)
        if not LATIN_WORD.findall(text) or time.monotonic() > deadline:
            return text
        page.wait_for_timeout(200)


def open_screen(page: Page, path: str) -> None:
    """Go to ``path`` and wait until its screen has replaced the one shown."""
    shown = page.locator("main h1").element_handle()
    go(page, path)
    page.wait_for_function("heading => !heading.isConnected", arg=shown, timeout=UI_TIMEOUT_MS)
    expect(page.locator("main h1")).to_be_visible()


def use_language(page: Page, language: str) -> None:
    """Switch the app's language on the settings screen."""
    go(page, "/settings")
    page.get_by_label("Language").select_option(language)
    expect(page.locator("html")).to_have_attribute("lang", language)
