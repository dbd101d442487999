import assert from 'node:assert/strict';
import { test } from 'node:test';

import { dutyOf, ownShifts, shiftsOfDay, signUpChange, signUpId } from '../../web/app/volunteers/duty.js';
import { DECLARATIONS } from './helpers.js';

const shift = (id, startsAt, endsAt, extra = {}) => ({ type: 'shift', id, version: 2, fields: { post: 'West gate', starts_at: startsAt, ends_at: endsAt, user_id: 2, ...extra } });

test('a shift is upcoming, then missing until the volunteer reports arriving, then over', () => {
  const s = shift('s', '2022-04-01T07:00:00.000Z', '2022-04-01T19:00:00.000Z');
  assert.equal(dutyOf(s, new Date('2022-04-01T06:59:00Z')), 'upcoming');
  assert.equal(dutyOf(s, new Date('2022-04-01T07:00:00Z')), 'missing');
  assert.equal(dutyOf({ ...s, fields: { ...s.fields, arrived_at: '2022-04-01T06:55:00Z' } }, new Date('2022-04-01T08:00:00Z')), 'on_duty');
  assert.equal(dutyOf(s, new Date('2022-04-01T19:00:00Z')), 'over');
});

test('the day’s shifts are those overlapping it, by start; a user’s own by account', () => {
  const now = new Date(2022, 3, 1, 12);
  const at = (day, hour) => new Date(2022, 3, day, hour).toISOString();
  const shifts = [shift('late', at(1, 19), at(2, 7)), shift('early', at(1, 7), at(1, 19)), shift('yesterday', at(0, 7), at(0, 19)),
    shift('night', at(0, 19), at(1, 7), { user_id: 5 })];
  assert.deepEqual(shiftsOfDay(shifts, now).map((s) => s.id), ['night', 'early', 'late']);
  assert.deepEqual(ownShifts(shifts, { id: 5 }).map((s) => s.id), ['night']);
});

test('a first sign-up is a create under the account’s id; later ones update the version seen', async () => {
  const id = await signUpId(2);
  const made = signUpChange(DECLARATIONS, null, id, { name: ' 周杰 ', skills: ['driver', 'flying'], languages: 'zh, en，ja', compound_id: 'c1', team: '' });
  assert.deepEqual(made, { type: 'volunteer', id, op: 'create', base_version: 0,
    fields: { name: '周杰', team: null, skills: ['driver'], languages: ['zh', 'en', 'ja'], compound_id: 'c1' } });
  const again = signUpChange(DECLARATIONS, { id, version: 4, fields: {} }, id, { name: '周杰', skills: [], languages: '' });
  assert.deepEqual([again.op, again.base_version, 'compound_id' in again.fields], ['update', 4, false]);
  assert.throws(() => signUpChange(DECLARATIONS, null, id, { name: '', compound_id: 'c1' }), (error) => error.field === 'name');
});
