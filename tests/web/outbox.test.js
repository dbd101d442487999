import assert from 'node:assert/strict';
import { test } from 'node:test';

import { openStore } from '../../web/app/db.js';
import { createOutbox } from '../../web/app/outbox.js';
import { aClaim, anOutbox, freshDb } from './helpers.js';

test('add queues a changeset with a uuid, an ISO made_at and the schema', async () => {
  const db = await freshDb();
  const outbox = createOutbox(db);
  const changeset = await outbox.add([aClaim()]);
  assert.match(changeset.id, /^[0-9a-f-]{36}$/);
  assert.equal(new Date(changeset.made_at).toISOString(), changeset.made_at);
  assert.equal(changeset.schema, 1);
  assert.equal(changeset.state, 'pending');
  assert.deepEqual(changeset.changes, [aClaim()]);
});

test('the outbox makes time-ordered changeset ids: UUID version 7, each sorting after the last', async () => {
  const outbox = createOutbox(await freshDb());
  const ids = [];
  for (let i = 0; i < 50; i += 1) ids.push((await outbox.add([aClaim({ id: `t${i}` })])).id);
  for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.deepEqual([...ids].sort(), ids);
  const ms = Number.parseInt(ids[0].replace('-', '').slice(0, 12), 16);
  assert.ok(Math.abs(ms - Date.now()) < 60_000, 'the first 48 bits are the Unix time in ms');
});

test('the outbox survives closing and reopening the database', async () => {
  const name = `reload-${crypto.randomUUID()}`;
  const first = await openStore(name);
  await createOutbox(first).add([aClaim()]);
  await createOutbox(first).add([aClaim({ id: 't2' })]);
  first.close();
  const again = createOutbox(await openStore(name));
  assert.deepEqual((await again.all()).map((c) => c.changes[0].id), ['t1', 't2']);
});

test('changesets keep the order they were made in', async () => {
  const outbox = await anOutbox(await freshDb());
  for (const id of ['a', 'b', 'c']) await outbox.add([aClaim({ id })]);
  // (distinct records, so all three fit in one batch)
  assert.deepEqual((await outbox.eligible()).map((c) => c.changes[0].id), ['a', 'b', 'c']);
});

test('an empty changeset or an unknown op is refused', async () => {
  const outbox = await anOutbox(await freshDb());
  await assert.rejects(outbox.add([]), TypeError);
  await assert.rejects(outbox.add([aClaim({ op: 'upsert' })]), TypeError);
});

test('a set-aside changeset blocks only later changesets touching the same record', async () => {
  const outbox = await anOutbox(await freshDb());
  const early = await outbox.add([aClaim({ id: 'other' })]);
  const bad = await outbox.add([aClaim({ id: 't1' })]);
  const sameRecord = await outbox.add([{ ...aClaim({ id: 't1' }), fields: { notes: 'x' } }]);
  const unrelated = await outbox.add([aClaim({ id: 't9' })]);
  await outbox.setAside(bad.id, [{ status: 'rejected', conflict: { code: 'already_claimed' } }]);
  assert.deepEqual((await outbox.eligible()).map((c) => c.id), [early.id, unrelated.id]);
  assert.deepEqual(await outbox.blocked(), [sameRecord.id]);
});

test('counts are the changesets queued and those set aside as rejected', async () => {
  const outbox = await anOutbox(await freshDb());
  assert.deepEqual(await outbox.counts(), { queued: 0, rejected: 0 });
  const bad = await outbox.add([aClaim({ id: 't1' })]);
  await outbox.add([{ ...aClaim({ id: 't1' }), fields: { notes: 'x' } }]);
  await outbox.add([aClaim({ id: 't9' })]);
  await outbox.setAside(bad.id, [{ status: 'rejected', conflict: { code: 'already_claimed' } }]);
  // The one behind it is blocked, not rejected: it counts as pending.
  assert.deepEqual(await outbox.counts(), { queued: 3, rejected: 1 });
});

test('blocking is transitive through a blocked changeset', async () => {
  const outbox = await anOutbox(await freshDb());
  const bad = await outbox.add([aClaim({ id: 't1' })]);
  const both = await outbox.add([aClaim({ id: 't1' }), aClaim({ id: 't2' })]);
  const second = await outbox.add([aClaim({ id: 't2' })]);
  await outbox.setAside(bad.id, []);
  assert.deepEqual(await outbox.blocked(), [both.id, second.id]);
});

test('a push batch holds one changeset per record; the rest wait in order', async () => {
  const outbox = await anOutbox(await freshDb());
  const claim = await outbox.add([aClaim({ id: 't1' })]);
  const start = await outbox.add([{ ...aClaim({ id: 't1' }), fields: { status: 'in_progress' } }]);
  const both = await outbox.add([aClaim({ id: 't2' }), aClaim({ id: 't1' })]);
  const other = await outbox.add([aClaim({ id: 't3' })]);
  const afterBoth = await outbox.add([aClaim({ id: 't2' })]);
  assert.deepEqual((await outbox.eligible()).map((c) => c.id), [claim.id, other.id]);
  await outbox.remove([claim.id, other.id]);
  assert.deepEqual((await outbox.eligible()).map((c) => c.id), [start.id]);
  await outbox.remove([start.id]);
  assert.deepEqual((await outbox.eligible()).map((c) => c.id), [both.id]);
  await outbox.remove([both.id]);
  assert.deepEqual((await outbox.eligible()).map((c) => c.id), [afterBoth.id]);
});

test('eligible batches stop at a schema change', async () => {
  const outbox = await anOutbox(await freshDb());
  await outbox.add([aClaim({ id: 'a' })], { schema: 1 });
  await outbox.add([aClaim({ id: 'b' })], { schema: 2 });
  assert.deepEqual((await outbox.eligible()).map((c) => c.schema), [1]);
});

test('discarding a set-aside changeset unblocks what waited behind it', async () => {
  const outbox = await anOutbox(await freshDb());
  const bad = await outbox.add([aClaim()]);
  const later = await outbox.add([aClaim()]);
  await outbox.setAside(bad.id, []);
  assert.deepEqual(await outbox.eligible(), []);
  await outbox.discard(bad.id);
  assert.deepEqual((await outbox.eligible()).map((c) => c.id), [later.id]);
});

test('retry queues the edits again under a new id with the current base version', async () => {
  const outbox = await anOutbox(await freshDb());
  const bad = await outbox.add([aClaim({ base_version: 5 })]);
  await outbox.setAside(bad.id, []);
  const again = await outbox.retry(bad.id, async () => 9);
  assert.notEqual(again.id, bad.id);
  assert.equal(again.changes[0].base_version, 9);
  assert.equal(await outbox.byId(bad.id), undefined);
  assert.deepEqual((await outbox.eligible()).map((c) => c.id), [again.id]);
});

test('rebase moves later edits onto the version the server gave the earlier one', async () => {
  const outbox = await anOutbox(await freshDb());
  await outbox.add([{ type: 'task', id: 'new', op: 'create', fields: { title: 'x' } }]);
  const edit = await outbox.add([{ type: 'task', id: 'new', op: 'update', base_version: 0, fields: { notes: 'n' } }]);
  const otherRecord = await outbox.add([{ type: 'task', id: 'else', op: 'update', base_version: 0, fields: { notes: 'n' } }]);
  await outbox.rebase('task', 'new', 0, 17);
  assert.equal((await outbox.byId(edit.id)).changes[0].base_version, 17);
  assert.equal((await outbox.byId(otherRecord.id)).changes[0].base_version, 0);
});

test('export and import carry changesets to another device, once', async () => {
  const source = await anOutbox(await freshDb());
  await source.add([aClaim({ id: 'a' })]);
  const rejected = await source.add([aClaim({ id: 'b' })]);
  await source.setAside(rejected.id, []);
  const file = JSON.parse(JSON.stringify(await source.exportAll('client-1')));
  assert.equal(file.format, 'weiguang-outbox');

  const target = createOutbox(await freshDb());
  assert.deepEqual(await target.importAll(file), { added: 2, skipped: 0 });
  assert.deepEqual(await target.importAll(file), { added: 0, skipped: 2 });
  const imported = await target.all();
  assert.deepEqual(imported.map((c) => c.id), file.changesets.map((c) => c.id));
  assert.ok(imported.every((c) => c.state === 'pending'));
  assert.equal(imported[0].made_at, file.changesets[0].made_at);
});

test('import refuses a file that is not an outbox export', async () => {
  const outbox = createOutbox(await freshDb());
  await assert.rejects(outbox.importAll({ hello: 'world' }), TypeError);
  assert.equal(await outbox.count(), 0);
});
