import assert from 'node:assert/strict';
import { test } from 'node:test';

import { columnsOf, createBoard, dropAction, matches, missingInputs, NOBODY, windowOf } from '../../web/app/board/model.js';
import { changeFor, taskOrder } from '../../web/app/tasks/rules.js';
import { aTask, DECLARATIONS } from './helpers.js';

const coord = { id: 1, username: 'coord', display_name: '居委会协调员', role: 'coordinator' };
const volA = { id: 2, username: 'vol-a', display_name: '志愿者 A', role: 'volunteer' };
const STATUSES = DECLARATIONS.types.task.fields.status.enum;

/** A seeded generator (mulberry32): the same cases every run, many of them. */
function random(seed) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
const oneOf = (rnd, list) => list[Math.floor(rnd() * list.length)];

function randomTask(rnd, id) {
  return aTask({
    id,
    version: Math.floor(rnd() * 100),
    deleted: rnd() < 0.1,
    fields: {
      status: oneOf(rnd, STATUSES),
      kind: oneOf(rnd, ['delivery', 'medicine', 'garbage']),
      compound_id: oneOf(rnd, ['A', 'B']),
      building_id: oneOf(rnd, [null, 'b1', 'b2']),
      priority: oneOf(rnd, [1, 2, 3]),
      assignee_id: oneOf(rnd, [null, 2, 3]),
      title: oneOf(rnd, ['送菜', '取药', '垃圾']),
      due_at: oneOf(rnd, [null, '2022-04-01T10:00:00Z', '2022-04-01T09:00:00Z']),
    },
  });
}

function randomFilter(rnd) {
  return {
    compound: oneOf(rnd, ['', 'A']),
    building: oneOf(rnd, ['', 'b1']),
    kind: oneOf(rnd, ['', 'medicine']),
    priority: oneOf(rnd, ['', '1', '3']),
    assignee: oneOf(rnd, ['', NOBODY, '2']),
  };
}

/** What a column must show, computed the slow obvious way. */
function expected(tasks, filter, status) {
  const order = taskOrder(DECLARATIONS);
  return [...tasks.values()].filter((task) => !task.deleted && task.fields.status === status && matches(task, filter))
    .sort((a, b) => order(a, b) || (a.id < b.id ? -1 : 1)).map((task) => task.id);
}

test('the columns are the declared states of the task machine, in order', () => {
  assert.deepEqual(columnsOf(DECLARATIONS), STATUSES);
  assert.deepEqual(columnsOf({ types: {} }), []);
});

test('after any sequence of changes and filters, every column equals filtering and sorting from scratch', () => {
  for (let seed = 1; seed <= 60; seed += 1) {
    const rnd = random(seed);
    const truth = new Map();
    const board = createBoard(DECLARATIONS);
    const initial = Array.from({ length: 30 }, (_, i) => randomTask(rnd, `t${i}`));
    for (const task of initial) truth.set(task.id, task);
    board.load(initial);
    let filter = board.filter;
    for (let step = 0; step < 80; step += 1) {
      if (rnd() < 0.1) {
        filter = randomFilter(rnd);
        assert.deepEqual(board.setFilter(filter), new Set(STATUSES));
      } else {
        const task = randomTask(rnd, `t${Math.floor(rnd() * 40)}`);
        const before = STATUSES.map((s) => board.column(s).map((t) => t.id));
        const changed = board.put(task);
        truth.set(task.id, task);
        STATUSES.forEach((status, i) => {
          const now = board.column(status).map((t) => t.id);
          // A column said unchanged really is: only the named ones are repainted.
          if (!changed.has(status)) assert.deepEqual(now, before[i], `seed ${seed} step ${step}: ${status} changed unannounced`);
        });
      }
      for (const status of STATUSES) {
        assert.deepEqual(board.column(status).map((t) => t.id), expected(truth, { ...filter }, status),
          `seed ${seed} step ${step}: column ${status}`);
      }
    }
  }
});

test('one changed task touches at most the column it left and the one it joined', () => {
  const board = createBoard(DECLARATIONS);
  board.load([aTask({ id: 'a' }), aTask({ id: 'b', fields: { status: 'claimed', assignee_id: 2 } })]);
  assert.deepEqual(board.put(aTask({ id: 'a', version: 6, fields: { status: 'claimed', assignee_id: 3 } })), new Set(['open', 'claimed']));
  assert.deepEqual(board.put(aTask({ id: 'a', version: 7, fields: { status: 'claimed', assignee_id: 2, title: 'x' } })), new Set(['claimed']));
  assert.deepEqual(board.put({ id: 'a', deleted: true, fields: {} }), new Set(['claimed']));
  assert.equal(board.get('a'), null);
  assert.deepEqual(board.put({ id: 'never-seen', deleted: true, fields: {} }), new Set());
});

test('the filter compares ids as strings and tells unassigned from anyone', () => {
  const held = aTask({ fields: { assignee_id: 2, priority: 1, building_id: 'b1' } });
  const free = aTask({ fields: { assignee_id: null } });
  assert.ok(matches(held, { compound: 'A', building: 'b1', kind: 'delivery', priority: '1', assignee: '2' }));
  assert.ok(!matches(held, { compound: '', building: '', kind: '', priority: '', assignee: NOBODY }));
  assert.ok(matches(free, { compound: '', building: '', kind: '', priority: '', assignee: NOBODY }));
  assert.ok(!matches(free, { compound: '', building: '', kind: '', priority: '', assignee: '2' }));
  assert.ok(!matches(held, { compound: 'B', building: '', kind: '', priority: '', assignee: '' }));
});

test('a column draws the rows its scroll box shows and a few either side, never past its ends', () => {
  for (let scrollTop = 0; scrollTop <= 5000 * 88; scrollTop += 7919) {
    const [start, end] = windowOf({ scrollTop, viewport: 700, row: 88, count: 5000, overscan: 5 });
    assert.ok(start >= 0 && end <= 5000 && start <= end);
    const firstSeen = Math.floor(scrollTop / 88);
    const lastSeen = Math.min(4999, Math.floor((scrollTop + 699) / 88));
    if (firstSeen < 5000) assert.ok(start <= firstSeen && end > lastSeen, `scrollTop ${scrollTop}`);
    assert.ok(end - start <= Math.ceil(700 / 88) + 1 + 10);
  }
  assert.deepEqual(windowOf({ scrollTop: 0, viewport: 700, row: 88, count: 0 }), [0, 0]);
  assert.deepEqual(windowOf({ scrollTop: 10_000, viewport: 700, row: 88, count: 3 }), [3, 3], 'scrolled past the end: nothing');
});

test('a drop on a column is the declared move there, or nothing', () => {
  const open = aTask();
  const held = aTask({ fields: { status: 'claimed', assignee_id: 2 } });
  // A coordinator's claim is an assignment: dropped on the column it still needs a person.
  const assign = dropAction(DECLARATIONS, open, coord, { status: 'claimed' });
  assert.equal(assign.action, 'assign');
  assert.deepEqual(missingInputs(assign), ['assignee']);
  assert.equal(dropAction(DECLARATIONS, open, coord, { status: 'cancelled' }).action, 'cancel');
  assert.equal(dropAction(DECLARATIONS, open, coord, { status: 'done' }), null);
  assert.equal(dropAction(DECLARATIONS, held, coord, { status: 'open' }), null);
  const fail = dropAction(DECLARATIONS, aTask({ fields: { status: 'in_progress', assignee_id: 2 } }), coord, { status: 'failed' });
  assert.deepEqual(missingInputs(fail), ['notes']);
  // A volunteer holding nothing cannot move another's task.
  assert.equal(dropAction(DECLARATIONS, held, volA, { status: 'in_progress' })?.action, 'start');
  assert.equal(dropAction(DECLARATIONS, held, { ...volA, id: 9 }, { status: 'in_progress' }), null);
});

test('a drop on a person assigns an open task or hands over a held one, as an ordinary update', () => {
  const open = aTask({ version: 3 });
  const assign = dropAction(DECLARATIONS, open, coord, { assignee: '7' });
  assert.deepEqual(missingInputs(assign), []);
  assert.deepEqual(changeFor(DECLARATIONS, assign, open, coord, { assignee: assign.assignee }),
    { type: 'task', id: 't1', op: 'update', base_version: 3, fields: { status: 'claimed', assignee_id: 7 } });
  const held = aTask({ fields: { status: 'in_progress', assignee_id: 2 } });
  const reassign = dropAction(DECLARATIONS, held, coord, { assignee: '7' });
  assert.deepEqual(changeFor(DECLARATIONS, reassign, held, coord, { assignee: reassign.assignee }).fields, { assignee_id: 7 });
  assert.equal(dropAction(DECLARATIONS, held, coord, { assignee: '2' }), null, 'to its own holder: nothing');
  assert.equal(dropAction(DECLARATIONS, aTask({ fields: { status: 'done', assignee_id: 2 } }), coord, { assignee: '7' }), null);
  assert.equal(dropAction(DECLARATIONS, open, volA, { assignee: '7' }), null, 'a volunteer does not assign');
});
