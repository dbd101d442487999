// The app reads the server's published declarations: it offers exactly the
// moves the engine applies (tests/web/fixtures/moves.json is what pytest saw
// the engine do; declarations.json is what the server publishes).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { allowedMoves, checkValue, judgeMove, mayAssign, mayCreate } from '../../web/app/declarations.js';
import { availableActions } from '../../web/app/tasks/rules.js';
import { DECLARATIONS, fixture } from './helpers.js';

const MOVES = fixture('moves.json');

const SELF = 2;
const OTHER = 3;

function recordFor({ type, state, holder }) {
  const machine = DECLARATIONS.types[type].state_machine;
  const holderId = { self: SELF, other: OTHER }[holder] ?? null;
  return { type, id: 'r1', version: 3, fields: { [machine.field]: state, [machine.holder]: holderId } };
}

test('the fixtures cover every type with a state machine, every role that may update it, every state', () => {
  for (const [type, declared] of Object.entries(DECLARATIONS.types)) {
    const machine = declared.state_machine;
    if (!machine) continue;
    const states = declared.fields[machine.field].enum;
    for (const role of declared.permissions.update) {
      for (const state of states) {
        assert.ok(MOVES.some((m) => m.type === type && m.role === role && m.state === state), `${type} ${role} ${state}`);
      }
    }
  }
});

test('the app offers exactly the moves the engine applies', () => {
  const cases = new Map();
  for (const move of MOVES) {
    const key = JSON.stringify([move.type, move.role, move.state, move.holder]);
    if (!cases.has(key)) cases.set(key, { ...move, applied: new Set() });
    if (move.outcome === 'applied') cases.get(key).applied.add(`${move.action}→${move.to}`);
  }
  assert.ok(cases.size >= 90, 'too few cases: the fixture is not the full matrix');
  for (const situation of cases.values()) {
    const user = { id: SELF, role: situation.role };
    const offered = allowedMoves(DECLARATIONS, situation.type, recordFor(situation), user).map((m) => `${m.action}→${m.to}`);
    assert.deepEqual(new Set(offered), situation.applied, `${situation.role} on ${situation.state} held by ${situation.holder}`);
  }
});

test('every move is judged as the engine judged it: applied, no-op or the same rejection code', () => {
  for (const move of MOVES) {
    const verdict = judgeMove(DECLARATIONS, move.type, recordFor(move), { id: SELF, role: move.role }, move.to);
    assert.equal(verdict.outcome, move.outcome, JSON.stringify(move));
  }
});

test('a claimed task never offers "fail": the engine fails only tasks in progress', () => {
  const claimed = recordFor({ type: 'task', state: 'claimed', holder: 'self' });
  for (const role of DECLARATIONS.roles) {
    const actions = availableActions(DECLARATIONS, claimed, { id: SELF, role }).map((a) => a.action);
    assert.ok(!actions.includes('fail'), role);
  }
  const volunteer = availableActions(DECLARATIONS, claimed, { id: SELF, role: 'volunteer' }).map((a) => a.action);
  assert.deepEqual(volunteer, ['start', 'note']);
});

test('a move asks for the inputs its transition requires', () => {
  const started = recordFor({ type: 'task', state: 'in_progress', holder: 'self' });
  const actions = availableActions(DECLARATIONS, started, { id: SELF, role: 'volunteer' });
  const fail = actions.find((a) => a.action === 'fail');
  const declared = DECLARATIONS.types.task.state_machine.transitions.find((edge) => edge.action === 'fail');
  assert.deepEqual(fail.inputs.filter((i) => i.required).map((i) => i.field), declared.requires);
});

test('coordinators assign and reassign; volunteers only claim for themselves', () => {
  assert.equal(mayAssign(DECLARATIONS, 'task', { role: 'coordinator' }), true);
  assert.equal(mayAssign(DECLARATIONS, 'task', { role: 'volunteer' }), false);
  const coordinator = { id: SELF, role: 'coordinator' };
  const open = availableActions(DECLARATIONS, recordFor({ type: 'task', state: 'open', holder: null }), coordinator);
  assert.ok(open.some((a) => a.action === 'assign') && !open.some((a) => a.action === 'claim'));
  const held = availableActions(DECLARATIONS, recordFor({ type: 'task', state: 'claimed', holder: 'other' }), coordinator);
  assert.ok(held.some((a) => a.action === 'reassign'));
  const done = availableActions(DECLARATIONS, recordFor({ type: 'task', state: 'done', holder: 'other' }), coordinator);
  assert.deepEqual(done, []);
});

test('roles without update permission are offered nothing', () => {
  for (const role of ['guard', 'team_leader', 'clinician']) {
    for (const state of DECLARATIONS.types.task.fields.status.enum) {
      assert.deepEqual(availableActions(DECLARATIONS, recordFor({ type: 'task', state, holder: 'self' }), { id: SELF, role }), []);
    }
  }
});

test('create permission and field limits come from the declaration', () => {
  assert.equal(mayCreate(DECLARATIONS, 'task', 'coordinator'), true);
  assert.equal(mayCreate(DECLARATIONS, 'task', 'volunteer'), false);
  const max = DECLARATIONS.types.task.fields.title.maxLength;
  assert.equal(checkValue(DECLARATIONS, 'task', 'title', 'x'.repeat(max)), null);
  assert.deepEqual(checkValue(DECLARATIONS, 'task', 'title', 'x'.repeat(max + 1)), { key: 'invalid.too_long', params: { max } });
  assert.deepEqual(checkValue(DECLARATIONS, 'task', 'title', '  '), { key: 'invalid.required', params: {} });
  assert.equal(checkValue(DECLARATIONS, 'task', 'notes', ''), null);
  assert.equal(checkValue(DECLARATIONS, 'task', 'priority', 99).key, 'invalid.range');
});

test('without a declaration nothing is offered', () => {
  assert.deepEqual(availableActions(null, recordFor({ type: 'task', state: 'open', holder: null }), { id: SELF, role: 'volunteer' }), []);
});
