import assert from 'node:assert/strict';
import { test } from 'node:test';

import { applyChange, mergePending, SYNC_STATE, viewsOfType } from '../../web/app/merge.js';
import { aClaim, aTask } from './helpers.js';

const pending = (id, changes) => ({ id, state: 'pending', changes });
const rejected = (id, changes) => ({ id, state: 'rejected', changes });

test('a record with no pending edit shows the server state, synced', () => {
  const view = mergePending([aTask()], []).get('task:t1');
  assert.equal(view.sync, SYNC_STATE.SYNCED);
  assert.equal(view.fields.status, 'open');
});

test('pending edits are re-applied over newly pulled state', () => {
  const pulled = aTask({ version: 9, fields: { title: 'Rice and oil to 3-401' } });
  const view = mergePending([pulled], [pending('c1', [aClaim()])]).get('task:t1');
  assert.equal(view.fields.status, 'claimed', 'my edit survives the pull');
  assert.equal(view.fields.title, 'Rice and oil to 3-401', 'the pulled edit shows too');
  assert.equal(view.version, 9, 'the version stays the server one');
  assert.equal(view.sync, SYNC_STATE.PENDING);
  assert.deepEqual(view.changesetIds, ['c1']);
});

test('later pending edits win over earlier ones', () => {
  const view = mergePending([aTask()], [
    pending('c1', [{ ...aClaim(), fields: { notes: 'first' } }]),
    pending('c2', [{ ...aClaim(), fields: { notes: 'second' } }]),
  ]).get('task:t1');
  assert.equal(view.fields.notes, 'second');
});

test('a record created on this device shows before it is pushed', () => {
  const create = { type: 'task', id: 'new', op: 'create', base_version: 0, fields: aTask().fields };
  const views = mergePending([], [pending('c1', [create])]);
  assert.deepEqual(viewsOfType(views, 'task').map((v) => [v.id, v.sync]), [['new', 'pending']]);
});

test('a rejected changeset is not re-applied, and marks the record rejected', () => {
  const view = mergePending([aTask()], [rejected('c1', [aClaim()])]).get('task:t1');
  assert.equal(view.fields.status, 'open');
  assert.equal(view.sync, SYNC_STATE.REJECTED);
});

test('a pending edit after a rejected one keeps the rejected badge', () => {
  const view = mergePending([aTask()], [rejected('c1', [aClaim()]), pending('c2', [{ ...aClaim(), fields: { notes: 'n' } }])])
    .get('task:t1');
  assert.equal(view.sync, SYNC_STATE.REJECTED);
  assert.equal(view.fields.notes, 'n');
});

test('a pending delete hides the record from lists', () => {
  const views = mergePending([aTask()], [pending('c1', [{ type: 'task', id: 't1', op: 'delete', base_version: 5 }])]);
  assert.deepEqual(viewsOfType(views, 'task'), []);
});

test('applyChange does not modify its input', () => {
  const task = aTask();
  const before = structuredClone(task);
  applyChange(task, aClaim());
  assert.deepEqual(task, before);
});
