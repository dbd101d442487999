import assert from 'node:assert/strict';
import { test } from 'node:test';

import { availableActions, changeFor, InputError, newTaskChange, taskOrder } from '../../web/app/tasks/rules.js';
import { aTask, DECLARATIONS } from './helpers.js';

const volA = { id: 2, username: 'vol-a', display_name: '志愿者 A', role: 'volunteer' };
const coord = { id: 1, username: 'coord', display_name: '居委会协调员', role: 'coordinator' };

const action = (task, user, name) => availableActions(DECLARATIONS, task, user).find((a) => a.action === name);

test('a claim sets the status and the caller as holder, on the version seen', () => {
  const task = aTask({ version: 7 });
  assert.deepEqual(changeFor(DECLARATIONS, action(task, volA, 'claim'), task, volA), {
    type: 'task', id: 't1', op: 'update', base_version: 7, fields: { status: 'claimed', assignee_id: 2 },
  });
});

test('a coordinator assigns an open task and reassigns a held one', () => {
  const open = aTask();
  assert.deepEqual(changeFor(DECLARATIONS, action(open, coord, 'assign'), open, coord, { assignee: '2' }).fields,
    { status: 'claimed', assignee_id: 2 });
  assert.throws(() => changeFor(DECLARATIONS, action(open, coord, 'assign'), open, coord, {}), InputError);
  const held = aTask({ fields: { status: 'in_progress', assignee_id: 2 } });
  assert.deepEqual(changeFor(DECLARATIONS, action(held, coord, 'reassign'), held, coord, { assignee: '5' }).fields,
    { assignee_id: 5 });
});

test('failing needs a reason, appended to the notes under the author’s username', () => {
  const task = aTask({ fields: { status: 'in_progress', assignee_id: 2, notes: 'gate code 1234' } });
  const fail = action(task, volA, 'fail');
  assert.throws(() => changeFor(DECLARATIONS, fail, task, volA, { notes: '  ' }), (error) => error.field === 'notes');
  assert.deepEqual(changeFor(DECLARATIONS, fail, task, volA, { notes: 'nobody home' }).fields, {
    status: 'failed', notes: 'gate code 1234\nvol-a: nobody home',
  });
});

test('done needs proof, taken as given and held to its declared length', () => {
  const task = aTask({ fields: { status: 'in_progress', assignee_id: 2 } });
  const done = action(task, volA, 'done');
  assert.deepEqual(done.inputs, [{ field: 'proof', required: true }]);
  assert.throws(() => changeFor(DECLARATIONS, done, task, volA, { proof: '  ' }), (error) => error.field === 'proof');
  assert.deepEqual(changeFor(DECLARATIONS, done, task, volA, { proof: 'A7' }).fields, { status: 'done', proof: 'A7' });
  const max = DECLARATIONS.types.task.fields.proof.maxLength;
  assert.throws(() => changeFor(DECLARATIONS, done, task, volA, { proof: 'x'.repeat(max + 1) }), /too_long/);
});

test('a note is appended with its author, other fields untouched', () => {
  const task = aTask();
  assert.deepEqual(changeFor(DECLARATIONS, action(task, coord, 'note'), task, coord, { notes: 'call first' }).fields,
    { notes: 'coord: call first' });
});

test('a new task is checked against the declared fields', () => {
  assert.throws(() => newTaskChange(DECLARATIONS, { kind: 'delivery', compound_id: 'A', priority: '3' }), (e) => e.field === 'title');
  assert.throws(() => newTaskChange(DECLARATIONS, { title: 'x', kind: 'delivery', priority: '3' }), (e) => e.field === 'compound_id');
  assert.throws(() => newTaskChange(DECLARATIONS, { title: 'x', compound_id: 'A', kind: 'party', priority: '3' }), (e) => e.field === 'kind');
  const change = newTaskChange(DECLARATIONS, { title: ' Rice ', kind: 'delivery', compound_id: 'A', priority: '1', building_id: '' }, 'id-1');
  assert.deepEqual(change, {
    type: 'task', id: 'id-1', op: 'create', base_version: 0,
    fields: { kind: 'delivery', title: 'Rice', status: 'open', compound_id: 'A', priority: 1 },
  });
});

test('a new task gets a time-ordered id (UUID version 7) unless one is given', () => {
  const input = { title: 'Rice', kind: 'delivery', compound_id: 'A', priority: '1' };
  const first = newTaskChange(DECLARATIONS, input).id;
  const second = newTaskChange(DECLARATIONS, input).id;
  for (const id of [first, second]) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.ok(first < second);
});

test('lists show unfinished and urgent tasks first', () => {
  const tasks = [
    aTask({ id: 'done', fields: { status: 'done', priority: 1 } }),
    aTask({ id: 'routine', fields: { priority: 3 } }),
    aTask({ id: 'urgent', fields: { priority: 1 } }),
  ];
  assert.deepEqual(tasks.sort(taskOrder(DECLARATIONS)).map((t) => t.id), ['urgent', 'routine', 'done']);
});
