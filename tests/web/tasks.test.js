import assert from 'node:assert/strict';
import { test } from 'node:test';

import { availableActions, changeFor, compareTasks, newTaskChange } from '../../web/app/tasks.js';
import { aTask } from './helpers.js';

const volA = { id: 'u-a', username: 'vol-a', role: 'volunteer' };
const volB = { id: 'u-b', username: 'vol-b', role: 'volunteer' };
const coord = { id: 'u-c', username: 'coord', role: 'coordinator' };

test('a volunteer can claim an open task; a coordinator can cancel it', () => {
  assert.deepEqual(availableActions(aTask(), volA), ['claim']);
  assert.deepEqual(availableActions(aTask(), coord), ['note', 'cancel']);
});

test('only the assignee starts, finishes or fails a task', () => {
  const claimed = aTask({ fields: { status: 'claimed', assignee_id: 'u-a' } });
  assert.deepEqual(availableActions(claimed, volA), ['start', 'fail', 'note']);
  assert.deepEqual(availableActions(claimed, volB), []);
  const started = aTask({ fields: { status: 'in_progress', assignee_id: 'u-a' } });
  assert.deepEqual(availableActions(started, volA), ['done', 'fail', 'note']);
});

test('finished tasks offer nothing', () => {
  for (const status of ['done', 'failed', 'cancelled']) {
    assert.deepEqual(availableActions(aTask({ fields: { status, assignee_id: 'u-a' } }), volA), []);
    assert.deepEqual(availableActions(aTask({ fields: { status } }), coord), []);
  }
});

test('a claim sets the status and the caller as assignee, on the version seen', () => {
  assert.deepEqual(changeFor('claim', aTask({ version: 7 }), volA), {
    type: 'task', id: 't1', op: 'update', base_version: 7, fields: { status: 'claimed', assignee_id: 'u-a' },
  });
});

test('done needs proof and failed needs a reason in notes', () => {
  const task = aTask({ fields: { status: 'in_progress', assignee_id: 'u-a', notes: 'gate code 1234' } });
  assert.throws(() => changeFor('done', task, volA, { text: '  ' }), /proof_required/);
  assert.throws(() => changeFor('fail', task, volA, {}), /reason_required/);
  assert.deepEqual(changeFor('done', task, volA, { text: 'A7' }).fields, { status: 'done', proof: 'A7' });
  assert.deepEqual(changeFor('fail', task, volA, { text: 'nobody home' }).fields, {
    status: 'failed', notes: 'gate code 1234\nvol-a: nobody home',
  });
});

test('a note is appended with its author, other fields untouched', () => {
  const change = changeFor('note', aTask(), coord, { text: 'call first' });
  assert.deepEqual(change.fields, { notes: 'coord: call first' });
});

test('a new task needs a title, a compound and a kind', () => {
  assert.throws(() => newTaskChange({ kind: 'delivery', compound_id: 'A' }), /title_required/);
  assert.throws(() => newTaskChange({ title: 'x', kind: 'delivery' }), /compound_required/);
  assert.throws(() => newTaskChange({ title: 'x', compound_id: 'A', kind: 'party' }), /kind_required/);
  const change = newTaskChange({ title: ' Rice ', kind: 'delivery', compound_id: 'A', priority: '1', building_id: '' }, 'id-1');
  assert.deepEqual(change, {
    type: 'task', id: 'id-1', op: 'create', base_version: 0,
    fields: { kind: 'delivery', title: 'Rice', status: 'open', compound_id: 'A', priority: 1 },
  });
});

test('lists show unfinished and urgent tasks first', () => {
  const tasks = [
    aTask({ id: 'done', fields: { status: 'done', priority: 1 } }),
    aTask({ id: 'routine', fields: { priority: 3 } }),
    aTask({ id: 'urgent', fields: { priority: 1 } }),
  ];
  assert.deepEqual(tasks.sort(compareTasks).map((t) => t.id), ['urgent', 'routine', 'done']);
});
