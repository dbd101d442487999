"""A device whose store holds a record a value (version 4) upgrades to bundles losing nothing.

Issue 16 moved the device's records into bundles (``web/app/db.js``, version 5). A phone
that synced on the app before, with an edit queued offline, opens the new app: its records
are all there and read by place, and the queued edit is sent.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from server.seed import stable_id
from tests.browser.helpers import (
    READ_RECORDS,
    expect_synced,
    open_task,
    seeded_task_id,
    server_record,
    sign_in,
)

pytestmark = pytest.mark.browser

HOUSEHOLD_A = stable_id("household", "A", 1, 1, "101")

#: Queue a visit through the app's outbox, then rewrite the device's database as the app
#: before version 5 kept it (records a value in `records`, its indexes, meta's `newest`),
#: with everything in it; return how many records and changesets it holds.
AS_VERSION_4 = """async ([visit, householdId]) => {
  const { allRecords, openStore } = await import('/app/db.js');
  const { createOutbox } = await import('/app/outbox.js');
  const done = (request) => new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const app = await openStore();
  const fields = { household_id: householdId, outcome: 'answered', present: 1, needs: [] };
  await createOutbox(app).add([{ type: 'visit', id: visit, op: 'create', fields }]);
  const records = await allRecords(app);
  const outbox = await app.getAll('outbox');
  const keys = await app.getAllKeys('meta');
  const meta = await Promise.all(keys.map((key) => app.get('meta', key)));
  app.close();
  await done(indexedDB.deleteDatabase('weiguang'));
  const opening = indexedDB.open('weiguang', 4);
  opening.onupgradeneeded = () => {
    const db = opening.result;
    const store = db.createObjectStore('records', { keyPath: ['type', 'id'] });
    store.createIndex('type_compound', ['type', 'fields.compound_id']);
    store.createIndex('type_building', ['type', 'fields.building_id']);
    db.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true })
      .createIndex('id', 'id', { unique: true });
    db.createObjectStore('attention', { keyPath: 'seq', autoIncrement: true });
    db.createObjectStore('meta');
    db.createObjectStore('photos', { keyPath: 'id' }).createIndex('record', 'record_id');
  };
  const db = await done(opening);
  const tx = db.transaction(['records', 'outbox', 'meta'], 'readwrite');
  const newest = {};
  for (const record of records) {
    tx.objectStore('records').put(record);
    newest[record.type] = Math.max(newest[record.type] ?? 0, record.version);
  }
  for (const changeset of outbox) tx.objectStore('outbox').put(changeset);
  keys.forEach((key, i) => tx.objectStore('meta').put(meta[i], key));
  tx.objectStore('meta').put(newest, 'newest');
  await new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
  db.close();
  return { records: records.length, outbox: outbox.length };
}"""


def test_a_synced_device_with_a_queued_edit_upgrades_to_bundles(device: Any, db_path: str) -> None:
    page = device("vol-a")
    sign_in(page, "vol-a")
    held = len(page.evaluate(READ_RECORDS, None))
    page.goto("/api/v1/health")  # the app is closed: its database is free to rewrite
    visit = str(uuid.uuid4())
    old = page.evaluate(AS_VERSION_4, [visit, HOUSEHOLD_A])
    assert old == {"records": held, "outbox": 1}

    page.goto("/")
    expect_synced(page)
    assert server_record(db_path, visit)["fields"]["household_id"] == HOUSEHOLD_A
    stored = page.evaluate(READ_RECORDS, None)
    assert len(stored) == held + 1, "every record kept, and the visit's as the server took it"
    assert [r["id"] for r in stored].count(visit) == 1
    open_task(page, seeded_task_id("A", 3))  # a screen reads the records it read before
