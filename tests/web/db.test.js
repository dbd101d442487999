// The device store: records by place through their indexes, and the upgrade that adds them.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { openDB } from '../../web/vendor/idb/index.js';
import { openStore, recordsOfType, storeRecords } from '../../web/app/db.js';
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
  await old.put('records', record('task', 't1', { compound_id: 'A', building_id: 'A1' }));
  await old.put('meta', 7, 'cursor');
  old.close();
  const db = await openStore(name);
  assert.deepEqual((await recordsOfType(db, 'task', { building_id: 'A1' })).map((r) => r.id), ['t1']);
  assert.equal(await db.get('meta', 'cursor'), 7);
});
