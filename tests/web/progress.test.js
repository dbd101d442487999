import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ApiError, NetworkError } from '../../web/app/api.js';
import { byCompound, hourlySeries, share, shownMeasures, startOfDay } from '../../web/app/progress/model.js';
import { createProgressSource } from '../../web/app/progress/source.js';
import { freshDb } from './helpers.js';

const ANSWER = {
  since: '2022-04-01T16:00:00.000Z',
  measures: ['households', 'visited', 'no_answer', 'residents', 'orders_delivered', 'urgent_requests'],
  places: [
    { compound_id: 'A', building_id: 'a10', households: 10, visited: 4, residents: 30, orders_delivered: 2 },
    { compound_id: 'A', building_id: 'a2', households: 6, visited: 6, residents: 12 },
    { compound_id: 'A', building_id: null, urgent_requests: 1 },
    { compound_id: 'B', building_id: 'b1', households: 8, visited: 0 },
  ],
  hours: { visited: [['2022-04-01T17', 3], ['2022-04-01T19', 5]], orders_delivered: [] },
};
const NAMES = {
  compounds: new Map([['A', '1 村'], ['B', '2 村']]),
  buildings: new Map([['a10', '10号楼'], ['a2', '2号楼'], ['b1', '1号楼']]),
};
const numeric = new Intl.Collator('zh-CN', { numeric: true }).compare;

test('a compound totals its buildings, counts placed only in the compound included', () => {
  const [a, b] = byCompound(ANSWER, NAMES, numeric);
  assert.equal(a.id, 'A');
  assert.deepEqual(a.totals, { households: 16, visited: 10, residents: 42, orders_delivered: 2, urgent_requests: 1 });
  assert.deepEqual(a.buildings.map((x) => x.id), ['a2', 'a10'], 'buildings in the order people read them');
  assert.deepEqual(b.totals, { households: 8, visited: 0 });
  // Every count of the answer is in exactly one compound's totals.
  const sum = (key) => ANSWER.places.reduce((n, p) => n + (p[key] ?? 0), 0);
  for (const key of ['households', 'visited', 'residents', 'urgent_requests']) {
    assert.equal((a.totals[key] ?? 0) + (b.totals[key] ?? 0), sum(key), key);
  }
});

test('only the figures the server offers are shown: testing waits for test results', () => {
  const shown = shownMeasures(ANSWER);
  assert.deepEqual(shown.coverage.map((c) => c.name), ['screening']);
  assert.deepEqual(shown.counts, ['orders_delivered', 'urgent_requests']);
  assert.deepEqual(shownMeasures({ ...ANSWER, measures: [...ANSWER.measures, 'tested'] }).coverage.map((c) => c.name),
    ['screening', 'testing']);
  assert.deepEqual(shownMeasures(null), { coverage: [], counts: [] });
});

test('a share stays between 0 and 1 and is 0 with nothing to cover', () => {
  const screening = { done: 'visited', of: 'households' };
  assert.equal(share({ visited: 4, households: 10 }, screening), 0.4);
  assert.equal(share({ visited: 0, households: 0 }, screening), 0);
  assert.equal(share({}, screening), 0);
  assert.equal(share({ visited: 12, households: 10 }, screening), 1);
});

test('the chart has one point an hour from the start of the window to now, zeros where nothing happened', () => {
  const { names, data } = hourlySeries(ANSWER, new Date('2022-04-01T20:30:00Z'));
  assert.deepEqual(names, ['visited', 'orders_delivered']);
  const [xs, visits, deliveries] = data;
  assert.deepEqual(xs.map((x) => new Date(x * 1000).toISOString().slice(11, 13)), ['16', '17', '18', '19', '20']);
  assert.deepEqual(visits, [0, 3, 0, 5, 0]);
  assert.deepEqual(deliveries, [0, 0, 0, 0, 0]);
});

test('the day starts at local midnight, said with its zone', () => {
  const since = startOfDay(new Date(2022, 3, 2, 15, 45));
  assert.equal(new Date(since).getTime(), new Date(2022, 3, 2).getTime());
  assert.match(since, /Z$/);
});

test('offline, the last answer is shown to the user it was for and to no one else', async () => {
  const db = await freshDb();
  let reply = async () => ANSWER;
  const source = createProgressSource({ api: { request: (...args) => reply(...args) }, db });
  const fresh = await source.load(1, '2022-04-01T16:00:00.000Z');
  assert.equal(fresh.fresh, true);
  reply = async () => { throw new NetworkError(new Error('offline')); };
  const kept = await source.load(1, '2022-04-01T16:00:00.000Z');
  assert.deepEqual([kept.fresh, kept.answer, kept.at], [false, ANSWER, fresh.at]);
  assert.equal(await source.load(2, '2022-04-01T16:00:00.000Z'), null);
  reply = async () => { throw new ApiError(503, {}); };
  assert.equal((await source.load(1, 'x')).fresh, false);
  reply = async () => { throw new ApiError(403, { detail: 'no' }); };
  await assert.rejects(source.load(1, 'x'), ApiError);
});
