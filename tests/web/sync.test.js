import assert from 'node:assert/strict';
import { test } from 'node:test';

import { allRecords, getCursor, getMeta, getRecord, listAttention, setMeta, storeRecords } from '../../web/app/db.js';
import { createBackoff, MAX_BACKOFF_MS } from '../../web/app/backoff.js';
import { createSyncEngine, PHASE } from '../../web/app/sync.js';
import { createFakeServer } from './fake-server.js';
import { aClaim, anOutbox, freshDb, manualTimers } from './helpers.js';

async function setup({ pageLimit = 500, online = true } = {}) {
  const db = await freshDb();
  const outbox = await anOutbox(db);
  const server = createFakeServer();
  const timers = manualTimers();
  const engine = createSyncEngine({
    db, outbox, transport: server.transport, clientId: 'client-1', timers, pageLimit, online,
    backoff: createBackoff({ baseMs: 1000, random: () => 1 }),
  });
  return { db, outbox, server, timers, engine };
}

/** The pulls of every type: the ones that move the cursor (rule 6 adds others first). */
const mainPulls = (server) => server.calls.pull.filter((c) => !c.types);

test('rule 1: a first sync pulls page by page and saves the cursor with each page', async () => {
  const { db, server, engine } = await setup({ pageLimit: 2 });
  for (let i = 0; i < 5; i += 1) server.seed('resident', `r${i}`, { name: `resident ${i}` });
  const progress = [];
  engine.subscribe((what, state) => what === 'state' && state.firstSync && progress.push(state.firstSync.records));
  await engine.requestSync();
  assert.deepEqual(mainPulls(server).map((c) => c.cursor), [0, 2, 4]);
  assert.equal(await getCursor(db), 5);
  assert.equal((await getRecord(db, 'resident', 'r4')).fields.name, 'resident 4');
  assert.deepEqual(progress.at(-1), 5);
  assert.deepEqual(progress, [...progress].sort((a, b) => a - b), 'progress only grows');
  assert.equal(engine.state.firstSync, null);
  assert.equal(engine.state.phase, PHASE.IDLE);
  assert.ok(engine.state.lastSyncAt);
});

test('rule 1: the next page is asked for while the page before it is stored', async () => {
  const { db, server, engine } = await setup({ pageLimit: 2 });
  for (let i = 0; i < 5; i += 1) server.seed('resident', `r${i}`, { name: `resident ${i}` });
  let storedPages = 0;
  engine.subscribe((what) => {
    if (what === 'records') storedPages += 1;
  });
  const asked = [];
  const realPull = server.transport.pull;
  server.transport.pull = (...args) => {
    if (!args[2]) asked.push([args[0], storedPages]);
    return realPull(...args);
  };
  await engine.requestSync();
  assert.deepEqual(asked, [[0, 0], [2, 0], [4, 1]], '[cursor asked, pages stored by then]');
  assert.equal(await getCursor(db), 5);
});

test('rule 1: a pull that fails mid-way resumes from the last stored page', async () => {
  const { db, server, engine, timers } = await setup({ pageLimit: 2 });
  for (let i = 0; i < 5; i += 1) server.seed('resident', `r${i}`, { name: `r${i}` });
  const realPull = server.transport.pull;
  let mainCalls = 0;
  server.transport.pull = async (...args) => {
    if (!args[2]) mainCalls += 1;
    if (mainCalls === 2 && !args[2]) server.failNextWith('network');
    return realPull(...args);
  };
  await engine.requestSync();
  assert.equal(engine.state.phase, PHASE.WAITING);
  assert.equal(await getCursor(db), 2, 'the first page is kept');
  await timers.fireAll();
  assert.equal(await getCursor(db), 5);
  assert.deepEqual(mainPulls(server).map((c) => c.cursor), [0, 2, 2, 4]);
});

test('rule 1: a tab that dies with the next page asked for keeps its cursor at what it stored; the next tab stores every record once', async () => {
  const { db, outbox, server, engine } = await setup({ pageLimit: 2 });
  for (let i = 0; i < 5; i += 1) server.seed('resident', `r${i}`, { name: `r${i}` });
  const realPull = server.transport.pull;
  let died;
  const dead = new Promise((resolve) => { died = resolve; });
  server.transport.pull = (...args) => {
    if (args[2] || args[0] < 4) return realPull(...args);
    died();
    return new Promise(() => {}); // the tab is closed: this page never comes
  };
  let pages = 0;
  const twoStored = new Promise((resolve) => {
    engine.subscribe((what) => what === 'records' && (pages += 1) === 2 && resolve());
  });
  engine.requestSync();
  await Promise.all([dead, twoStored]); // the third page was asked for while the second was stored
  const cursor = await getCursor(db);
  assert.equal(cursor, 4, 'the cursor covers the pages stored, not the one in flight');
  const held = await allRecords(db);
  assert.deepEqual(held.map((r) => r.id).sort(), ['r0', 'r1', 'r2', 'r3'], 'every record up to the cursor, none past it');

  server.transport.pull = realPull;
  const next = createSyncEngine({ db, outbox, transport: server.transport, clientId: 'client-1', timers: manualTimers(), pageLimit: 2 });
  await next.requestSync();
  assert.deepEqual(server.calls.pull.at(-1).cursor, 4, 'the next tab goes on from the stored cursor');
  assert.deepEqual((await allRecords(db)).map((r) => r.id).sort(), ['r0', 'r1', 'r2', 'r3', 'r4'], 'each record once');
  assert.equal(await getCursor(db), 5);
});

test('rules 8 and 9: a page naming the database and grants the page before named costs no more reads or writes of them', async () => {
  // Issue 16: on a throttled phone each check's transactions stood between two pages' writes.
  const { db, server, engine } = await setup({ pageLimit: 2 });
  for (let i = 0; i < 7; i += 1) server.seed('resident', `r${i}`, { name: `resident ${i}` });
  server.grant('B', '2022-04-02T08:00:00.000Z');
  const { get, put } = IDBObjectStore.prototype;
  const touched = { epoch: 0, grants: 0 };
  const count = (key) => {
    if (key in touched) touched[key] += 1;
  };
  IDBObjectStore.prototype.get = function countedGet(key) {
    if (this.name === 'meta') count(key);
    return get.call(this, key);
  };
  IDBObjectStore.prototype.put = function countedPut(value, key) {
    if (this.name === 'meta') count(key);
    return put.call(this, value, key);
  };
  try {
    await engine.requestSync();
  } finally {
    Object.assign(IDBObjectStore.prototype, { get, put });
  }
  // The first round pulls the first types, then them again (the new grant, rule 9), then all.
  // The full pull's pages name what the first types' pages named: the checks are the first types'.
  const checks = server.calls.pull.filter((c) => c.cursor === 0 && c.types).length;
  assert.equal(checks, 2);
  assert.ok(mainPulls(server).length >= 4, 'several pages a run');
  // A check reads the epoch and the grants; it writes the epoch the first time and the
  // grants when they change (the new grant: once). The round's sweep reads the grants once more.
  assert.deepEqual(touched, { epoch: checks + 1, grants: checks + 2 });
  assert.equal(await getCursor(db), 7);
  assert.equal(await getMeta(db, 'epoch'), 'db-1');
  assert.equal((await getMeta(db, 'grants')).length, 1);
});

test('rules 8 and 9: a round whose pull names the database and grants held writes neither', async () => {
  // Each write is a disk write on a phone: once a round, for nothing, before this.
  const { server, engine } = await setup();
  server.seed('resident', 'r1', { name: 'resident 1' });
  server.grant('B', '2099-04-02T08:00:00.000Z'); // in force by the test's clock: no sweep writes
  await engine.requestSync();
  server.seed('resident', 'r2', { name: 'resident 2' });
  const { put } = IDBObjectStore.prototype;
  const written = [];
  IDBObjectStore.prototype.put = function notedPut(value, key) {
    if (this.name === 'meta') written.push(key);
    return put.call(this, value, key);
  };
  try {
    await engine.requestSync();
  } finally {
    IDBObjectStore.prototype.put = put;
  }
  assert.deepEqual(written.filter((key) => key === 'epoch' || key === 'grants'), []);
  assert.ok(written.includes('cursor'), 'the round did pull and store');
});

test('rule 6: a first sync fetches tasks, buildings and compounds before the rest', async () => {
  const { db, server, engine } = await setup({ pageLimit: 2 });
  server.seed('resident', 'r1', { name: 'first written' });
  server.seed('building', 'b1', { name: '12号楼' });
  server.seed('resident', 'r2', { name: 'second' });
  server.seed('task', 't1', { title: 'deliver', status: 'open' });
  const seenBeforeResidents = [];
  const realPull = server.transport.pull;
  server.transport.pull = async (...args) => {
    if (!args[2] && !seenBeforeResidents.length) {
      seenBeforeResidents.push(Boolean(await getRecord(db, 'task', 't1')), Boolean(await getRecord(db, 'building', 'b1')));
    }
    return realPull(...args);
  };
  await engine.requestSync();
  assert.deepEqual(server.calls.pull[0], { cursor: 0, limit: 2, types: ['task', 'building', 'compound'] });
  assert.deepEqual(seenBeforeResidents, [true, true], 'tasks and buildings were stored before the full pull began');
  assert.equal(await getCursor(db), 4);
  assert.equal((await getRecord(db, 'resident', 'r2')).fields.name, 'second');
});

test('rule 6: a sync that already has a cursor pulls every type at once', async () => {
  const { server, engine, db } = await setup();
  server.seed('task', 't1', { status: 'open' });
  await storeRecords(db, [], 1);
  server.seed('resident', 'r1', { name: 'new' });
  await engine.requestSync();
  assert.deepEqual(server.calls.pull.map((c) => c.types), [undefined]);
});

test('the outbox is pushed before pulling, with the schema header and client id', async () => {
  const { outbox, server, engine } = await setup();
  server.seed('task', 't1', { status: 'open' });
  await outbox.add([aClaim({ base_version: 1 })]);
  await engine.requestSync();
  assert.equal(server.calls.push.length, 1);
  const [{ body, schema }] = server.calls.push;
  assert.equal(schema, 1);
  assert.equal(body.client_id, 'client-1');
  assert.deepEqual(Object.keys(body.changesets[0]).sort(), ['changes', 'id', 'made_at']);
  assert.equal(await outbox.count(), 0);
  assert.equal(server.records.get('t1').fields.status, 'claimed');
});

test('rule 3: an accepted edit shows at once and later edits move onto its version', async () => {
  const { db, outbox, server, engine } = await setup();
  server.seed('task', 't1', { status: 'open' });
  await storeRecords(db, [server.records.get('t1')], 1);
  const first = await outbox.add([aClaim({ base_version: 1 })]);
  const second = await outbox.add([{ ...aClaim({ base_version: 1 }), fields: { status: 'in_progress' } }]);
  const batch = await outbox.eligible();
  assert.deepEqual(batch.map((c) => c.id), [first.id], 'one changeset per record per push');
  await engine.applyPushResults(batch, await server.transport.push({ client_id: 'c', changesets: batch }));
  assert.equal(await outbox.byId(first.id), undefined);
  assert.equal((await outbox.byId(second.id)).changes[0].base_version, 2);
  const shown = await getRecord(db, 'task', 't1');
  assert.equal(shown.version, 2);
  assert.equal(shown.fields.status, 'claimed');
});

test('rule 2: a rejected changeset is set aside with its reason and the server record; others still go', async () => {
  const { db, outbox, server, engine } = await setup();
  server.seed('task', 't1', { status: 'open' });
  server.seed('task', 't2', { status: 'open' });
  server.otherUserWrites('task', 't1', { status: 'claimed', assignee_id: 'u-vol-b' });
  const lost = await outbox.add([aClaim({ id: 't1', base_version: 1 })]);
  const blocked = await outbox.add([{ ...aClaim({ id: 't1', base_version: 1 }), fields: { notes: 'on my way' } }]);
  const fine = await outbox.add([aClaim({ id: 't2', base_version: 2 })]);
  await engine.requestSync();

  const setAside = await outbox.byId(lost.id);
  assert.equal(setAside.state, 'rejected');
  assert.equal(setAside.rejection.changes[0].conflict.code, 'already_claimed');
  assert.equal((await outbox.byId(blocked.id)).state, 'pending', 'kept, not pushed');
  assert.equal(await outbox.byId(fine.id), undefined);
  assert.deepEqual(server.calls.push[0].body.changesets.map((c) => c.id), [lost.id, fine.id]);
  assert.equal((await getRecord(db, 'task', 't1')).fields.assignee_id, 'u-vol-b', 'the server record is shown');
});

test('a merged change is accepted and leaves a notice naming the lost fields', async () => {
  const { db, outbox, engine } = await setup();
  const changeset = await outbox.add([{ ...aClaim(), fields: { notes: 'mine' } }]);
  await engine.applyPushResults([changeset], {
    results: [{ id: changeset.id, status: 'applied', changes: [{ type: 'task', id: 't1', status: 'merged', version: 8, lost_fields: ['notes'] }] }],
  });
  assert.equal(await outbox.count(), 0);
  const [notice] = await listAttention(db);
  assert.equal(notice.kind, 'merged');
  assert.deepEqual(notice.lost_fields, ['notes']);
  assert.deepEqual(notice.fields, { notes: 'mine' });
});

test('a changeset missing from the results stays pending', async () => {
  const { outbox, engine } = await setup();
  const changeset = await outbox.add([aClaim()]);
  assert.equal(await engine.applyPushResults([changeset], { results: [] }), 0);
  assert.equal((await outbox.byId(changeset.id)).state, 'pending');
});

test('rule 4: a live event applies when the local cursor is at least prev', async () => {
  const { db, server, engine } = await setup();
  await storeRecords(db, [], 10);
  await engine.handleLive({ prev: 10, cursor: 11, changes: [{ type: 'task', id: 'x', version: 11, deleted: false, fields: { title: 'live' } }] });
  assert.equal(await getCursor(db), 11);
  assert.equal((await getRecord(db, 'task', 'x')).fields.title, 'live');
  assert.equal(server.calls.pull.length, 0);
});

test('rule 4: a live event from beyond the local cursor makes the loop pull instead', async () => {
  const { db, server, engine } = await setup();
  server.seed('task', 'a', { title: 'missed' });
  const b = server.seed('task', 'b', { title: 'announced' });
  await storeRecords(db, [], 0);
  await engine.handleLive({ prev: 1, cursor: 2, changes: [b] });
  assert.deepEqual(mainPulls(server).map((c) => c.cursor), [0]);
  assert.equal((await getRecord(db, 'task', 'a')).fields.title, 'missed');
  assert.equal(await getCursor(db), 2);
});

test('rule 4: an empty poke makes the loop pull', async () => {
  const { server, engine } = await setup();
  await engine.handleLive({ prev: 0, cursor: 3, changes: [] });
  assert.equal(mainPulls(server).length, 1);
});

test('an old live event never overwrites a newer record nor moves the cursor back', async () => {
  const { db, engine } = await setup();
  await storeRecords(db, [{ type: 'task', id: 'x', version: 20, deleted: false, fields: { title: 'new' } }], 20);
  await engine.handleLive({ prev: 5, cursor: 6, changes: [{ type: 'task', id: 'x', version: 6, deleted: false, fields: { title: 'old' } }] });
  assert.equal((await getRecord(db, 'task', 'x')).fields.title, 'new');
  assert.equal(await getCursor(db), 20);
});

test('a tombstone is kept so the record stays deleted', async () => {
  const { db, engine } = await setup();
  await storeRecords(db, [{ type: 'task', id: 'x', version: 3, deleted: false, fields: { title: 't' } }], 3);
  await engine.handleLive({ prev: 3, cursor: 4, changes: [{ type: 'task', id: 'x', version: 4, deleted: true, fields: {} }] });
  const record = await getRecord(db, 'task', 'x');
  assert.equal(record.deleted, true);
  assert.deepEqual(record.fields, {});
});

test('rule 5: a 401 stops the loop, keeps the outbox, and resumes after sign-in', async () => {
  const { outbox, server, engine, timers } = await setup();
  server.seed('task', 't1', { status: 'open' });
  await outbox.add([aClaim({ base_version: 1 })]);
  server.failNextWith(401);
  await engine.requestSync();
  assert.equal(engine.state.phase, PHASE.SIGNED_OUT);
  assert.equal(await outbox.count(), 1);
  assert.deepEqual(timers.scheduled, [], 'no retry while signed out');
  await engine.requestSync();
  assert.equal(server.calls.push.length, 1, 'no attempt until sign-in');
  await engine.resumeAfterSignIn();
  assert.equal(engine.state.phase, PHASE.IDLE);
  assert.equal(await outbox.count(), 0);
});

test('a 426 stops the loop until the app updates', async () => {
  const { server, engine } = await setup();
  server.failNextWith(426);
  await engine.requestSync();
  assert.equal(engine.state.phase, PHASE.UPDATE_REQUIRED);
});

test('network failures and 5xx retry with growing delays', async () => {
  const { server, engine, timers } = await setup();
  server.failNextWith('network');
  await engine.requestSync();
  assert.equal(engine.state.phase, PHASE.WAITING);
  assert.deepEqual(timers.scheduled, [1000]);
  server.failNextWith(503);
  await timers.fireAll();
  assert.deepEqual(timers.scheduled, [2000]);
  await timers.fireAll();
  assert.equal(engine.state.phase, PHASE.IDLE);
  assert.deepEqual(timers.scheduled, []);
});

test('offline: no attempts until back online, then one round', async () => {
  const { outbox, server, engine } = await setup({ online: false });
  await outbox.add([aClaim()]);
  await engine.requestSync();
  assert.equal(engine.state.phase, PHASE.OFFLINE);
  assert.equal(server.calls.push.length + server.calls.pull.length, 0);
  server.seed('task', 't1', { status: 'open' });
  await engine.setOnline(true);
  assert.equal(server.calls.push.length, 1);
  assert.equal(engine.state.phase, PHASE.IDLE);
});

test('single flight: requests during a round share it and add at most one more', async () => {
  const { server, engine } = await setup();
  let release;
  const gate = new Promise((resolve) => { release = resolve; });
  const realPull = server.transport.pull;
  let inFlight = 0;
  let maxInFlight = 0;
  server.transport.pull = async (...args) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await gate;
    inFlight -= 1;
    return realPull(...args);
  };
  const requests = [engine.requestSync(), engine.requestSync(), engine.requestSync()];
  release();
  await Promise.all(requests);
  assert.equal(maxInFlight, 1);
  assert.equal(mainPulls(server).length, 2, 'the first round, then one more for the requests made during it');
});

test('retrying a push after a lost response does not apply it twice', async () => {
  const { outbox, server, engine, timers } = await setup();
  server.seed('task', 't1', { status: 'open', notes: '' });
  await outbox.add([{ ...aClaim({ base_version: 1 }), fields: { notes: 'once' } }]);
  const realPush = server.transport.push;
  let first = true;
  server.transport.push = async (...args) => {
    const response = await realPush(...args);
    if (first) {
      first = false;
      throw new (await import('../../web/app/api.js')).NetworkError(new Error('response lost'));
    }
    return response;
  };
  await engine.requestSync();
  assert.equal(await outbox.count(), 1, 'still queued: we never heard back');
  await timers.fireAll();
  assert.equal(await outbox.count(), 0);
  assert.equal(server.records.get('t1').version, 2, 'written once');
});

test('rule 7: a refusal with Retry-After waits at least that long, at most the longest backoff', async () => {
  const { server, engine, timers } = await setup();
  server.failNextWith(429, { retryAfterMs: 30_000 });
  await engine.requestSync();
  assert.equal(engine.state.phase, PHASE.WAITING);
  assert.deepEqual(timers.scheduled, [30_000], 'the server asked for longer than the backoff');
  server.failNextWith(503, { retryAfterMs: 500 });
  await timers.fireAll();
  assert.deepEqual(timers.scheduled, [2000], 'the backoff asks for longer than the server');
  server.failNextWith(429, { retryAfterMs: 24 * 3600 * 1000 });
  await timers.fireAll();
  assert.deepEqual(timers.scheduled, [MAX_BACKOFF_MS], 'a day is capped');
  await timers.fireAll();
  assert.equal(engine.state.phase, PHASE.IDLE);
});

test('a records event names the types it touched, so only screens showing them redraw', async () => {
  const { server, engine } = await setup();
  server.seed('resident', 'r1', { name: 'resident 1' });
  server.seed('building', 'b1', { name: '3号楼' });
  const touched = new Set();
  engine.subscribe((what, _state, types) => what === 'records' && types.forEach((type) => touched.add(type)));
  await engine.requestSync();
  assert.deepEqual([...touched].sort(), ['building', 'resident']);
});

test('the last clean round is kept, so a reload offline still says when the device last synced', async () => {
  const { db, engine } = await setup();
  await engine.requestSync();
  assert.equal(await getMeta(db, 'lastSyncAt'), engine.state.lastSyncAt);
  const reloaded = createSyncEngine({
    db, outbox: await anOutbox(db), transport: {}, clientId: 'client-1', online: false, lastSyncAt: await getMeta(db, 'lastSyncAt'),
  });
  assert.equal(reloaded.state.lastSyncAt, engine.state.lastSyncAt);
});

test('rule 8: after a restore rewinds the server, the device pulls everything again and keeps its outbox', async () => {
  const { db, outbox, server, engine } = await setup();
  server.seed('task', 't1', { status: 'open', title: 'one' });
  const backup = server.highWater;
  server.seed('task', 't2', { status: 'open', title: 'two' }); // after the backup: lost by the restore
  await engine.requestSync();
  assert.equal(await getCursor(db), 2);
  server.restoreBackupOf(backup);
  // Others write again before this device pulls: versions the device's cursor already passed.
  server.otherUserWrites('task', 't3', { status: 'open', title: 'three' });
  server.otherUserWrites('task', 't4', { status: 'open', title: 'four' });
  await outbox.add([aClaim({ id: 't1', base_version: 1 })]);
  await engine.requestSync();
  assert.equal(await getRecord(db, 'task', 't2'), undefined, 'what the restore lost is gone here too');
  assert.equal((await getRecord(db, 'task', 't3')).fields.title, 'three');
  assert.equal((await getRecord(db, 'task', 't4')).fields.title, 'four');
  assert.equal((await getRecord(db, 'task', 't1')).fields.status, 'claimed', 'the queued claim went');
  assert.equal(await getCursor(db), server.highWater);
  assert.equal(await getMeta(db, 'epoch'), 'db-1-restored');
});

test('rule 8: the first epoch a device sees is only remembered', async () => {
  const { db, server, engine } = await setup();
  server.seed('task', 't1', { status: 'open', title: 'one' });
  await engine.requestSync();
  await engine.requestSync();
  assert.equal(await getMeta(db, 'epoch'), 'db-1');
  assert.equal((await getRecord(db, 'task', 't1')).fields.title, 'one');
  assert.deepEqual(mainPulls(server).map((c) => c.cursor), [0, 1]);
});

/** A device of a clinician of compound A, with a clock the test moves, and B outside its scope. */
async function grantSetup({ online = true } = {}) {
  const db = await freshDb();
  const outbox = await anOutbox(db);
  const server = createFakeServer();
  const timers = manualTimers();
  const clock = { at: Date.parse('2022-04-01T20:00:00.000Z') };
  const engine = createSyncEngine({
    db, outbox, transport: server.transport, clientId: 'client-1', timers, online, now: () => new Date(clock.at),
  });
  await setMeta(db, 'user', { id: 7, username: 'medic-a', scope_kind: 'compounds', scope_ids: ['A'] });
  server.outsideScope('B');
  server.seed('compound', 'B', { name: 'B区' });
  server.seed('task', 'a1', { status: 'open', title: 'A task', compound_id: 'A' });
  server.seed('task', 'b1', { status: 'open', title: 'B task', compound_id: 'B' });
  server.seed('resident', 'b-res', { name: 'B resident', compound_id: 'B' });
  return { db, outbox, server, timers, engine, clock };
}

const HOUR = 60 * 60 * 1000;
const at = (ms) => new Date(ms).toISOString();
const held = async (db) => Object.fromEntries(
  await Promise.all(['a1', 'b1', 'b-res'].map(async (id) => [id, Boolean(await getRecord(db, id === 'b-res' ? 'resident' : 'task', id))])),
);

test('rule 9: a new grant pulls the compound\'s older records; one that ends on the server takes them off the device, outbox kept', async () => {
  const { db, outbox, server, engine, clock } = await grantSetup();
  await engine.requestSync();
  assert.deepEqual(await held(db), { a1: true, b1: false, 'b-res': false });
  server.grant('B', at(clock.at + HOUR)); // B's records are older than the device's cursor
  await engine.requestSync();
  assert.deepEqual(await held(db), { a1: true, b1: true, 'b-res': true });
  // An edit of B's task waits in the outbox while the server ends the grant (revoked early).
  await outbox.add([aClaim({ id: 'b1', base_version: 2 })]);
  server.failNextWith('network');
  await engine.requestSync();
  server.endGrant('B');
  await engine.requestSync();
  assert.deepEqual(await held(db), { a1: true, b1: false, 'b-res': false });
  assert.equal(await getCursor(db), server.highWater);
  const [ended] = (await listAttention(db)).filter((item) => item.kind === 'grant_ended');
  assert.equal(ended.compound_id, 'B');
  assert.equal(ended.compound_name, 'B区');
  assert.equal(ended.queued, 1, 'the queued edit is counted, not dropped');
  const [kept] = await outbox.all();
  assert.equal(kept.state, 'rejected', 'refused not_found by the server, set aside for the user to see');
  assert.equal(kept.changes[0].id, 'b1');
  assert.deepEqual(await getMeta(db, 'grants'), []);
});

test('rule 9: offline, past the expiry by the device clock, the timer takes B\'s records off and keeps A\'s and the outbox', async () => {
  const { db, outbox, server, timers, engine, clock } = await grantSetup();
  const expiresAt = clock.at + HOUR;
  server.grant('B', at(expiresAt));
  await engine.requestSync();
  assert.deepEqual(await held(db), { a1: true, b1: true, 'b-res': true });
  assert.deepEqual(timers.scheduled, [HOUR], 'a sweep waits for the expiry');
  await engine.setOnline(false);
  await outbox.add([aClaim({ id: 'a1', base_version: 1 })]); // work on A, made offline
  const forgotten = [];
  engine.subscribe((what) => what === 'forgotten' && forgotten.push(what));
  clock.at = expiresAt;
  await timers.fireAll();
  assert.deepEqual(await held(db), { a1: true, b1: false, 'b-res': false }, 'nothing of B is held offline, all of A is');
  assert.equal((await getRecord(db, 'compound', 'B')), undefined);
  assert.equal((await outbox.all()).length, 1, 'the outbox is kept');
  assert.equal(await getCursor(db), 0, 'the next pull starts from 0');
  assert.equal(forgotten.length, 1);
  assert.equal(engine.state.phase, PHASE.OFFLINE);
  // The server's clock is behind: it still names the grant. No new sweep, no loop of pulls.
  await engine.setOnline(true);
  assert.equal((await listAttention(db)).filter((item) => item.kind === 'grant_ended').length, 1);
  assert.deepEqual(timers.scheduled, []);
  // Then the server ends it too: what only the grant gave leaves again, A stays.
  server.endGrant('B');
  await engine.requestSync();
  assert.deepEqual(await held(db), { a1: true, b1: false, 'b-res': false });
  assert.equal((await listAttention(db)).filter((item) => item.kind === 'grant_ended').length, 1, 'one note per grant');
});

test('rule 9: an app started offline after the expiry sweeps at its first round', async () => {
  const { db, server, engine, clock } = await grantSetup();
  server.grant('B', at(clock.at + HOUR));
  await engine.requestSync();
  clock.at += 2 * HOUR;
  const reopened = createSyncEngine({
    db, outbox: await anOutbox(db), transport: server.transport, clientId: 'client-1', online: false,
    timers: manualTimers(), now: () => new Date(clock.at),
  });
  await reopened.requestSync();
  assert.deepEqual(await held(db), { a1: true, b1: false, 'b-res': false });
});

test('rule 4: live events queued behind a write are stored together, up to one that does not chain', async () => {
  const { db, server, engine } = await setup();
  await storeRecords(db, [], 10);
  const live = (id, version) => ({ type: 'task', id, version, deleted: false, fields: { title: id } });
  const writes = [];
  engine.subscribe((what, _state, _types, touched) => what === 'records' && writes.push(touched.map((r) => r.id)));
  await Promise.all([
    engine.handleLive({ prev: 10, cursor: 11, changes: [live('a', 11)] }),
    engine.handleLive({ prev: 11, cursor: 12, changes: [live('b', 12)] }),
    engine.handleLive({ prev: 12, cursor: 13, changes: [live('c', 13)] }),
  ]);
  assert.equal(await getCursor(db), 13);
  assert.deepEqual(writes, [['a'], ['b', 'c']], 'the two queued behind the first went in one write');
  assert.equal(server.calls.pull.length, 0);

  // A gap stops the run: what chains is stored, the rest is left to a pull.
  server.seed('task', 'missed', { title: 'missed' });
  writes.length = 0;
  await Promise.all([
    engine.handleLive({ prev: 13, cursor: 14, changes: [live('d', 14)] }),
    engine.handleLive({ prev: 14, cursor: 15, changes: [live('e', 15)] }),
    engine.handleLive({ prev: 99, cursor: 100, changes: [live('f', 100)] }),
  ]);
  assert.deepEqual(writes[0], ['d']);
  assert.deepEqual(writes[1], ['e']);
  assert.equal(mainPulls(server).length, 1);
});

test('a live event announces its records as incoming before they are stored, even when it calls for a pull', async () => {
  const { db, server, engine } = await setup();
  await storeRecords(db, [], 10);
  const seen = [];
  engine.subscribe((what, _state, _types, touched) => {
    // The read starts when the announcement is made: it sees the store as it was then.
    if (what === 'incoming' || what === 'records') seen.push([what, touched.map((r) => r.id), getRecord(db, 'task', 'x')]);
  });
  const live = { type: 'task', id: 'x', version: 11, deleted: false, fields: { title: 'live' } };
  await engine.handleLive({ prev: 10, cursor: 11, changes: [live] });
  assert.deepEqual(seen.map(([what, ids]) => [what, ids]), [['incoming', ['x']], ['records', ['x']]]);
  assert.equal(await seen[0][2], undefined, 'announced before it was stored');
  assert.equal((await seen[1][2]).version, 11);
  seen.length = 0;
  const gap = server.seed('task', 'y', { title: 'after a gap' });
  await engine.handleLive({ prev: 50, cursor: 51, changes: [gap] });
  assert.deepEqual(seen[0].slice(0, 2), ['incoming', ['y']]);
  assert.equal(mainPulls(server).length, 1, 'the gap is pulled');
});

test('rule 6: a first sync marks when the first types are stored, then when the last page is', async () => {
  performance.clearMarks();
  const { db, server, engine } = await setup({ pageLimit: 2 });
  for (let i = 0; i < 5; i += 1) server.seed('resident', `r${i}`, { name: `resident ${i}` });
  server.seed('task', 't1', { title: 'deliver', status: 'open' });
  const cursorsAtMark = [];
  const realPull = server.transport.pull;
  server.transport.pull = async (...args) => {
    if (performance.getEntriesByName('sync:first-types').length && !cursorsAtMark.length) {
      cursorsAtMark.push(Boolean(await getRecord(db, 'task', 't1')), await getCursor(db));
    }
    return realPull(...args);
  };
  await engine.requestSync();
  const [types] = performance.getEntriesByName('sync:first-types');
  const [done] = performance.getEntriesByName('sync:first-sync');
  assert.ok(types && done && types.startTime <= done.startTime);
  assert.deepEqual(cursorsAtMark, [true, 0], 'marked with the tasks stored, before any page of the full pull');
  await engine.requestSync();
  assert.equal(performance.getEntriesByName('sync:first-sync').length, 1, 'a later sync is no first sync');
});

test('a round the device went offline during ends offline, not synced nor waiting', async () => {
  // The browser says "offline" while a request is out; the answer may still
  // come (Chromium lets it through) or fail. Either way the bar says Offline.
  for (const answer of ['answered', 'failed']) {
    const { server, timers, engine } = await setup();
    server.seed('resident', 'r1', { name: 'resident 1' });
    const realPull = server.transport.pull;
    server.transport.pull = async (...args) => {
      await engine.setOnline(false);
      if (answer === 'failed') throw new (await import('../../web/app/api.js')).NetworkError(new Error('offline'));
      return realPull(...args);
    };
    await engine.requestSync();
    assert.equal(engine.state.phase, PHASE.OFFLINE, answer);
    assert.deepEqual(timers.scheduled, [], `${answer}: no retry is due while offline`);
  }
});
