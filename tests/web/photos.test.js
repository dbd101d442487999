import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ApiError, NetworkError } from '../../web/app/api.js';
import { createBackoff } from '../../web/app/backoff.js';
import {
  createPhotoQueue, createPhotoSender, mayViewPhotos, MAX_PHOTO_SIDE_PX, PHOTO_STATE, scaledSize,
} from '../../web/app/photos.js';
import { createSyncEngine } from '../../web/app/sync.js';
import { createFakeServer } from './fake-server.js';
import { anOutbox, freshDb, manualTimers, sequentialIds, steppingClock } from './helpers.js';

const JPEG = new Blob([new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3])], { type: 'image/jpeg' });

/** A photo endpoint that fails with `failure()` while it returns an error, and records what arrived. */
function photoEndpoint() {
  const received = [];
  let failure = () => null;
  return {
    received,
    failWith(make) {
      failure = make;
    },
    async upload(photo) {
      const error = failure();
      if (error) throw error;
      received.push({ id: photo.id, kind: photo.kind, record_id: photo.record_id, bytes: [...new Uint8Array(photo.data)] });
      return { id: photo.id };
    },
  };
}

async function setup() {
  const db = await freshDb();
  const outbox = await anOutbox(db);
  const server = createFakeServer();
  const timers = manualTimers();
  const photos = createPhotoQueue(db, { now: steppingClock(), uuid: sequentialIds('photo') });
  const endpoint = photoEndpoint();
  const sender = createPhotoSender({
    photos, outbox, upload: endpoint.upload, timers, backoff: createBackoff({ baseMs: 1000, random: () => 1 }),
  });
  const engine = createSyncEngine({
    db, outbox, transport: server.transport, clientId: 'client-1', timers: manualTimers(),
  });
  return { db, outbox, server, timers, photos, endpoint, sender, engine };
}

/** Mark task t1 done with a photo, as the task screen does: the change, then the photo. */
async function doneWithPhoto({ server, outbox, photos }) {
  server.seed('task', 't1', { status: 'in_progress', assignee_id: 'u-vol-a' });
  await outbox.add([{ type: 'task', id: 't1', op: 'update', base_version: 1, fields: { status: 'done', proof: '4821' } }]);
  return photos.add({ kind: 'task_proof', recordId: 't1', blob: JPEG });
}

test('a photo is scaled to at most 1600 px a side, keeping its shape, never enlarged', () => {
  assert.deepEqual(scaledSize(4032, 3024), { width: MAX_PHOTO_SIDE_PX, height: 1200 });
  assert.deepEqual(scaledSize(3024, 4032), { width: 1200, height: MAX_PHOTO_SIDE_PX });
  assert.deepEqual(scaledSize(800, 600), { width: 800, height: 600 });
  assert.deepEqual(scaledSize(20000, 1), { width: MAX_PHOTO_SIDE_PX, height: 1 });
});

test('rule 1: a photo waits while the outbox holds its record, and is sent once the change is', async () => {
  const ctx = await setup();
  const photo = await doneWithPhoto(ctx);
  await ctx.sender.send();
  assert.equal(ctx.endpoint.received.length, 0);
  assert.equal((await ctx.photos.ofRecord('t1'))[0].state, PHOTO_STATE.WAITING);
  await ctx.engine.requestSync();
  assert.equal(await ctx.outbox.count(), 0);
  await ctx.sender.send();
  assert.deepEqual(ctx.endpoint.received.map((p) => [p.id, p.kind, p.record_id]), [[photo.id, 'task_proof', 't1']]);
  assert.deepEqual(ctx.endpoint.received[0].bytes, [...new Uint8Array(await JPEG.arrayBuffer())]);
});

for (const [what, failure] of [
  ['no answer', () => new NetworkError(new Error('offline'))],
  ['a 503', () => new ApiError(503, { detail: 'busy' }, 2000)],
]) {
  test(`rule 2: the outbox drains while the photo endpoint fails with ${what}; the photo arrives later`, async () => {
    const ctx = await setup();
    const photo = await doneWithPhoto(ctx);
    ctx.endpoint.failWith(failure);
    await ctx.engine.requestSync();
    await ctx.sender.send();
    assert.equal(await ctx.outbox.count(), 0, 'the done change reached the server');
    assert.equal(ctx.server.records.get('t1').fields.status, 'done');
    const kept = (await ctx.photos.ofRecord('t1'))[0];
    assert.equal(kept.state, PHOTO_STATE.RETRYING);
    assert.ok(kept.data.byteLength > 0, 'the photo stays on the device');
    assert.equal(ctx.timers.scheduled.length, 1, 'a retry is scheduled');
    // More changes keep flowing while the photo waits for its retry.
    await ctx.outbox.add([{ type: 'task', id: 't2', op: 'create', fields: { status: 'open' } }]);
    await ctx.engine.requestSync();
    assert.equal(await ctx.outbox.count(), 0);
    ctx.endpoint.failWith(() => null);
    await ctx.timers.fireAll();
    assert.deepEqual(ctx.endpoint.received.map((p) => p.id), [photo.id]);
    const sent = (await ctx.photos.ofRecord('t1'))[0];
    assert.equal(sent.state, PHOTO_STATE.SENT);
    assert.equal(sent.data, null, 'rule 3: a sent photo leaves the device');
  });
}

test('rule 2: a retry waits at least as long as the server asked', async () => {
  const ctx = await setup();
  await doneWithPhoto(ctx);
  await ctx.engine.requestSync();
  ctx.endpoint.failWith(() => new ApiError(429, { detail: 'slow down' }, 30_000));
  await ctx.sender.send();
  assert.ok(ctx.timers.scheduled[0] >= 30_000);
});

for (const status of [404, 409, 413, 415, 422]) {
  test(`rule 2: a ${status} is kept, refused, with its status and not tried again`, async () => {
    const ctx = await setup();
    await doneWithPhoto(ctx);
    await ctx.engine.requestSync();
    ctx.endpoint.failWith(() => new ApiError(status, { detail: `reason ${status}` }));
    await ctx.sender.send();
    const [kept] = await ctx.photos.ofRecord('t1');
    assert.equal(kept.state, PHOTO_STATE.REFUSED);
    assert.equal(kept.detail, status);
    assert.ok(kept.data.byteLength > 0, 'nothing the user took is dropped');
    assert.deepEqual(ctx.timers.scheduled, []);
    ctx.endpoint.failWith(() => null);
    await ctx.sender.send();
    assert.equal(ctx.endpoint.received.length, 0);
  });
}

test('sending is single-flight: asking while a round runs sends each photo once', async () => {
  const ctx = await setup();
  await doneWithPhoto(ctx);
  await ctx.photos.add({ kind: 'task_proof', recordId: 't1', blob: JPEG });
  await ctx.engine.requestSync();
  await Promise.all([ctx.sender.send(), ctx.sender.send(), ctx.sender.send()]);
  assert.equal(ctx.endpoint.received.length, 2);
  assert.equal(new Set(ctx.endpoint.received.map((p) => p.id)).size, 2);
});

test("after another user signs in, the first user's unsent photos stay theirs: kept, not listed, not sent", async () => {
  const { db, outbox, timers, endpoint } = await setup();
  let user = 'u-vol-a';
  const photos = createPhotoQueue(db, { now: steppingClock(), uuid: sequentialIds('photo'), owner: () => user });
  const sender = createPhotoSender({ photos, outbox, upload: endpoint.upload, timers });
  endpoint.failWith(() => new NetworkError('offline'));
  const first = await photos.add({ kind: 'task_proof', recordId: 't1', blob: JPEG });
  await sender.send();
  user = 'u-vol-b';
  endpoint.failWith(() => null);
  const second = await photos.add({ kind: 'task_proof', recordId: 't1', blob: JPEG });
  await sender.send();
  assert.deepEqual(endpoint.received.map((p) => p.id), [second.id]);
  assert.deepEqual((await photos.ofRecord('t1')).map((p) => p.id), [second.id]);
  assert.deepEqual(await photos.unsent(), []);
  const kept = await db.get('photos', first.id);
  assert.equal(kept.owner_id, 'u-vol-a');
  assert.ok(kept.data.byteLength > 0);
  user = 'u-vol-a';
  await sender.send();
  assert.deepEqual(endpoint.received.map((p) => p.id), [second.id, first.id]);
});

test('who is shown the photos of a record: the kind\'s roles and the record\'s holder, nobody else (sync/attachments.py)', () => {
  const task = { fields: { assignee_id: 7 } };
  const request = { fields: { requested_by: 7 } };
  const roles = ['coordinator', 'clinician', 'volunteer', 'team_leader', 'guard'];
  const shown = (kind, record, id) => roles.filter((role) => mayViewPhotos(kind, record, { id, role }));
  assert.deepEqual(shown('task_proof', task, 9), ['coordinator']);
  assert.deepEqual(shown('task_proof', task, '7'), roles);
  assert.deepEqual(shown('prescription', request, 9), ['coordinator', 'clinician']);
  assert.deepEqual(shown('prescription', request, 7), roles);
  assert.deepEqual(shown('prescription', { fields: {} }, undefined), ['coordinator', 'clinician']);
});
