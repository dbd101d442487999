// A refused change is explained by its real reason, and "try again" is
// offered only when trying again can succeed.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { mayRetry, reasonFor } from '../../web/app/rejections.js';
import { aTask, DECLARATIONS } from './helpers.js';

const vol = { id: 2, role: 'volunteer' };
const claim = { type: 'task', id: 't1', op: 'update', base_version: 5, fields: { status: 'claimed', assignee_id: 2 } };

test('a stale move names the state the server has and the one asked for', () => {
  const fail = { type: 'task', id: 't1', op: 'update', base_version: 5, fields: { status: 'failed', notes: 'x' } };
  const server = aTask({ fields: { status: 'claimed', assignee_id: 2 } });
  assert.deepEqual(reasonFor(DECLARATIONS, fail, { code: 'stale_transition', record: server }, null), {
    key: 'reject.stale_transition', params: { type: 'task', field: 'status', current: 'claimed', target: 'failed' },
  });
});

test('a refused claim names the holder; an invalid field names the field; unknown codes stay generic', () => {
  assert.deepEqual(reasonFor(DECLARATIONS, claim, { code: 'already_claimed', holder: 3 }, null).params, { holder: 3 });
  assert.equal(reasonFor(DECLARATIONS, claim, { code: 'already_claimed' }, null).key, 'reject.already_claimed_unknown');
  assert.deepEqual(reasonFor(DECLARATIONS, claim, { code: 'invalid', field: 'notes', detail: 'notes: too long' }, null),
    { key: 'reject.invalid_field', params: { type: 'task', field: 'notes' } });
  assert.equal(reasonFor(DECLARATIONS, claim, { code: 'teapot' }, null).key, 'reject.unknown');
  for (const code of ['forbidden', 'not_found', 'deleted', 'immutable']) {
    assert.equal(reasonFor(DECLARATIONS, claim, { code }, null).key, `reject.${code}`);
  }
});

test('a claim of a task since cancelled is never offered again', () => {
  const cancelled = aTask({ fields: { status: 'cancelled' } });
  const faults = [{ change: claim, conflict: { code: 'stale_transition', record: cancelled } }];
  assert.equal(mayRetry(DECLARATIONS, vol, faults, () => cancelled), false);
});

test('a claim refused because someone holds the task is offered again only once it is open', () => {
  const faults = [{ change: claim, conflict: { code: 'already_claimed', holder: 3 } }];
  assert.equal(mayRetry(DECLARATIONS, vol, faults, () => aTask({ fields: { status: 'claimed', assignee_id: 3 } })), false);
  assert.equal(mayRetry(DECLARATIONS, vol, faults, () => aTask({ fields: { status: 'open' } })), true);
});

test('codes that a retry cannot cure are never retried', () => {
  for (const code of ['forbidden', 'invalid', 'not_found', 'deleted', 'immutable', 'unknown']) {
    const faults = [{ change: claim, conflict: { code } }];
    assert.equal(mayRetry(DECLARATIONS, vol, faults, () => aTask()), false, code);
  }
  assert.equal(mayRetry(DECLARATIONS, vol, [{ change: claim, conflict: { code: 'stale_transition' } }], () => null), false);
  assert.equal(mayRetry(null, vol, [{ change: claim, conflict: { code: 'stale_transition' } }], () => aTask()), false);
});
