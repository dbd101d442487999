// The device store: records by place through their indexes, and the upgrade that adds them.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { openDB } from '../../web/vendor/idb/index.js';
import { forgetRecords, openStore, recordsOfType, storeRecords } from '../../web/app/db.js';
import { freshDb } from './helpers.js';

const record = (type, id, fields, extra = {}) => ({ type, id, version: 1, deleted: false, fields, ...extra });

test('records of a type are read by compound or building through their indexes', async () => {
  const db = await freshDb();
  await storeRecords(db, [
    record('task', 't1', { compound_id: 'A', building_id: 'A1' }),
    record('task', 't2', { compound_id: 'A', building_id: 'A2' }),
    record('task', 't3', { compound_id: 'B' }),
    record('resident', 'r1', { compound_id: 'A', building_id: 'A1' }),
    record('task', 't4', {}, { deleted: true }),
    record('tasks', 't5', { compound_id: 'A' }), // a type whose name starts with another's
  ]);
  const ids = (records) => records.map((r) => r.id).sort();
  assert.deepEqual(ids(await recordsOfType(db, 'task')), ['t1', 't2', 't3']);
  assert.deepEqual(ids(await recordsOfType(db, 'task', { compound_id: 'A' })), ['t1', 't2']);
  assert.deepEqual(ids(await recordsOfType(db, 'task', { building_id: 'A1' })), ['t1']);
  assert.deepEqual(ids(await recordsOfType(db, 'task', { compound_id: 'A', building_id: 'A2' })), ['t2']);
  assert.deepEqual(db.transaction('records').store.indexNames.contains('type_building'), true);
});

test('a store of the first version is upgraded in place: its records stay and get indexed', async () => {
  const name = `upgrade-${crypto.randomUUID()}`;
  const old = await openDB(name, 1, {
    upgrade(db) {
      db.createObjectStore('records', { keyPath: ['type', 'id'] }).createIndex('type', 'type');
      db.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true }).createIndex('id', 'id', { unique: true });
      db.createObjectStore('attention', { keyPath: 'seq', autoIncrement: true });
      db.createObjectStore('meta');
    },
  });
  await old.put('records', record('task', 't1', { compound_id: 'A', building_id: 'A1' }, { version: 7 }));
  await old.put('meta', 7, 'cursor');
  old.close();
  const db = await openStore(name);
  assert.deepEqual((await recordsOfType(db, 'task', { building_id: 'A1' })).map((r) => r.id), ['t1']);
  assert.deepEqual((await recordsOfType(db, 'task')).map((r) => r.id), ['t1']);
  assert.equal(await db.get('meta', 'cursor'), 7);
  assert.equal(db.transaction('records').store.indexNames.contains('type'), false, 'the key answers by type');
  await storeRecords(db, [record('task', 't1', { title: 'older' }, { version: 6 })]);
  assert.equal((await db.get('records', ['task', 't1'])).version, 7, 'a record kept before the upgrade is not put over by an older copy');
});

/** Count the reads of the records store while `work` runs. */
async function recordReads(work) {
  const { get } = IDBObjectStore.prototype;
  let reads = 0;
  IDBObjectStore.prototype.get = function countedGet(...args) {
    if (this.name === 'records') reads += 1;
    return get.apply(this, args);
  };
  try {
    await work();
  } finally {
    IDBObjectStore.prototype.get = get;
  }
  return reads;
}

test('a record newer than every stored one of its type is written without a read; the others are read first', async () => {
  // Issue 16: a first sync's pages come in version order, so a phone stores
  // them without reading each record before writing it; a copy that may be
  // older than the stored one is still read, so it never replaces it.
  const db = await freshDb();
  const page = (type, from, count) => Array.from({ length: count }, (_, i) => record(type, `${type}${from + i}`, {}, { version: from + i }));
  assert.equal(await recordReads(() => storeRecords(db, page('resident', 1, 50), 50)), 0, 'a first page');
  assert.equal(await recordReads(() => storeRecords(db, page('resident', 51, 50), 100)), 0, 'the next page');
  assert.equal(await recordReads(() => storeRecords(db, page('task', 10, 5))), 0, 'a type not stored yet');
  const older = [record('task', 'task12', { title: 'older' }, { version: 3 }), record('resident', 'resident60', {}, { version: 2 })];
  assert.equal(await recordReads(() => storeRecords(db, older)), 2, 'copies not newer than their type');
  assert.equal((await db.get('records', ['task', 'task12'])).version, 12);
  assert.equal((await db.get('records', ['resident', 'resident60'])).version, 60);
  await forgetRecords(db);
  assert.equal(await recordReads(() => storeRecords(db, page('task', 1, 5))), 0, 'after the records are forgotten');
});

test('another tab storing a newer copy first is never overwritten by an older page', async () => {
  const name = `tabs-${crypto.randomUUID()}`;
  const [tabA, tabB] = [await openStore(name), await openStore(name)];
  await storeRecords(tabB, [record('resident', 'r1', {}, { version: 4 })], 4);
  await storeRecords(tabA, [record('resident', 'r2', { note: 'live event' }, { version: 10 })], 10);
  await storeRecords(tabB, [record('resident', 'r2', { note: 'older page' }, { version: 6 }), record('resident', 'r3', {}, { version: 11 })], 11);
  assert.deepEqual((await tabB.get('records', ['resident', 'r2'])).fields, { note: 'live event' });
  assert.equal((await tabA.get('records', ['resident', 'r3'])).version, 11);
});

test('stored records are the newest of every copy, whatever the batches and their order', async () => {
  // Issue 16 writes a page's records all at once: of several copies of one
  // record, in one batch or across batches, the newest version stays (of equal
  // ones, the later), and the cursor only ever grows. A seeded random matrix
  // against a model of those two rules.
  let seed = 16;
  const random = (n) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let trial = 0; trial < 40; trial += 1) {
    const db = await freshDb();
    const model = new Map();
    let cursor = 0;
    for (let batch = 0; batch < 4; batch += 1) {
      const records = Array.from({ length: random(6) }, (_, i) => {
        const type = random(2) ? 'task' : 'resident';
        return record(type, `x${random(4)}`, { note: `${trial}.${batch}.${i}` }, {
          version: 1 + random(5),
          deleted: random(5) === 0,
        });
      });
      const moved = random(3) ? random(20) : undefined;
      await storeRecords(db, records, moved);
      for (const r of records) {
        const key = `${r.type}/${r.id}`;
        if (!model.has(key) || model.get(key).version <= r.version) model.set(key, r);
      }
      if (moved !== undefined) cursor = Math.max(cursor, moved);
    }
    const stored = await db.getAll('records');
    assert.deepEqual(
      Object.fromEntries(stored.map((r) => [`${r.type}/${r.id}`, [r.version, r.deleted, r.fields]])),
      Object.fromEntries([...model].map(([key, r]) => [key, [r.version, r.deleted, r.deleted ? {} : r.fields]])),
    );
    assert.equal((await db.get('meta', 'cursor')) ?? 0, cursor);
  }
});
