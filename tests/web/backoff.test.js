import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createBackoff } from '../../web/app/backoff.js';

test('delays double from the base and stay within [ceiling/2, ceiling]', () => {
  const low = createBackoff({ baseMs: 100, maxMs: 10_000, random: () => 0 });
  const high = createBackoff({ baseMs: 100, maxMs: 10_000, random: () => 1 });
  assert.deepEqual([1, 2, 3, 4].map(() => low.next()), [50, 100, 200, 400]);
  assert.deepEqual([1, 2, 3, 4].map(() => high.next()), [100, 200, 400, 800]);
});

test('delays are capped at the maximum', () => {
  const backoff = createBackoff({ baseMs: 1000, maxMs: 5000, random: () => 1 });
  const delays = Array.from({ length: 100 }, () => backoff.next());
  assert.equal(Math.max(...delays), 5000);
  assert.ok(delays.every(Number.isFinite));
});

test('jitter spreads devices that failed together', () => {
  let seed = 1;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const delays = new Set(Array.from({ length: 20 }, () => createBackoff({ baseMs: 1000, random }).next()));
  assert.ok(delays.size > 10, `only ${delays.size} distinct delays`);
});

test('reset starts again from the base delay', () => {
  const backoff = createBackoff({ baseMs: 100, random: () => 1 });
  backoff.next();
  backoff.next();
  assert.equal(backoff.attempts, 2);
  backoff.reset();
  assert.equal(backoff.next(), 100);
});
