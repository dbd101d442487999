// Break the glass (web/app/glass/screen.js): the choices the form offers stay
// within what the server accepts, grants list soonest-ending first, and a
// failed request reads as offline, the server's problem, or the error.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { ApiError, NetworkError } from '../../web/app/api.js';
import { setLanguage } from '../../web/app/i18n.js';
import { DEFAULT_MINUTES, DURATIONS, durationLabel, failure, inForce, REASON_LENGTH } from '../../web/app/glass/screen.js';

const SCHEMA = readFileSync(new URL('../../server/schemas/break_glass.py', import.meta.url), 'utf8');
const SCOPES = readFileSync(new URL('../../server/scopes.py', import.meta.url), 'utf8');

test('the durations, default and reason length are the server\'s', () => {
  const longest = Number(SCOPES.match(/LONGEST_GRANT = timedelta\(hours=(\d+)\)/)[1]) * 60;
  assert.ok(DURATIONS.every((minutes) => minutes >= 1 && minutes <= longest), String(DURATIONS));
  assert.equal(Math.max(...DURATIONS), longest, 'the longest grant is offered');
  assert.equal(DEFAULT_MINUTES, Number(SCHEMA.match(/DEFAULT_MINUTES = (\d+)/)[1]));
  assert.ok(DURATIONS.includes(DEFAULT_MINUTES));
  const [, min, max] = SCHEMA.match(/reason = fields\.String\(required=True, validate=validate\.Length\(min=(\d+), max=(\d+)\)/);
  assert.deepEqual(REASON_LENGTH, { min: Number(min), max: Number(max) });
});

test('grants list soonest-ending first, whatever order they came in, and only while in force', () => {
  const grants = [
    { id: 1, expires_at: '2026-11-30T20:00:00+00:00' },
    { id: 2, expires_at: '2026-11-30T18:00:00+08:00' }, // 10:00 UTC
    { id: 3, expires_at: '2026-11-30T12:00:00Z' },
  ];
  const early = Date.parse('2026-11-30T09:00:00Z');
  for (const order of [[0, 1, 2], [2, 1, 0], [1, 2, 0]]) {
    assert.deepEqual(inForce(order.map((i) => grants[i]), early).map((g) => g.id), [2, 3, 1]);
  }
  assert.deepEqual(grants.map((g) => g.id), [1, 2, 3], 'the list given is not reordered');
  // A grant runs out at its expiry, to the millisecond.
  assert.deepEqual(inForce(grants, Date.parse('2026-11-30T10:00:00Z')).map((g) => g.id), [3, 1]);
  assert.deepEqual(inForce(grants, Date.parse('2026-11-30T21:00:00Z')), []);
});

test('a failure reads as offline, the server\'s problem, or the error, in every language', async () => {
  for (const code of ['en', 'ja', 'ko', 'zh-CN']) {
    await setLanguage(code);
    const offline = failure(new NetworkError(new TypeError('fetch failed')));
    assert.doesNotMatch(offline, /glass\.offline|fetch failed/, code);
    assert.equal(failure(new ApiError(422, { detail: 'This compound is already in your scope.' })), 'This compound is already in your scope.');
    assert.equal(failure(new ApiError(404, { title: 'Not Found' })), 'Not Found');
    assert.equal(failure(new Error('boom')), 'boom');
    for (const minutes of DURATIONS) assert.match(durationLabel(minutes), /\d/, `${code} ${minutes}`);
  }
  await setLanguage('en');
  assert.deepEqual(DURATIONS.map(durationLabel), ['30 minutes', '1 hour', '2 hours', '4 hours', '8 hours', '12 hours']);
  await setLanguage('zh-CN');
});
