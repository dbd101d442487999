import assert from 'node:assert/strict';
import { test } from 'node:test';

import { uuid5 } from '../../web/app/ids.js';
import {
  confirmChange, firstDecisions, isOpen, orderChange, OrderInputError, orderIdOf, packageChange, pickingList, restockChange, review, roundChange,
  whatIsLeft,
} from '../../web/app/supplies/rules.js';

const ROUND = { id: '6f1c3a52-8d0e-4e6b-9a57-3b1f0c2d9e41', fields: { opens_at: '2022-04-03T00:00:00.000Z', cutoff_at: '2022-04-03T04:00:00.000Z' } };
const record = (type, id, fields, version = 1) => ({ type, id, version, deleted: false, fields });

test('uuid5 is RFC 9562 version 5, as Python derives an order id', async () => {
  // RFC 9562, appendix A.4, and Python's uuid.uuid5 on a round id with a non-ASCII name.
  assert.equal(await uuid5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com'), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
  assert.equal(await uuid5(ROUND.id, 'abc-家'), 'a1d59ac9-e8c9-5133-b7fe-f5eb63648a55');
  await assert.rejects(() => uuid5('not-a-uuid', 'x'), RangeError);
});

test('a new order is created under its household id in the round, zero quantities left out', async () => {
  const change = await orderChange({ round: ROUND, householdId: 'h1', quantities: { p1: '2', p2: '0', p3: '' }, channel: 'proxy' });
  assert.deepEqual(change, {
    type: 'order', id: await orderIdOf(ROUND.id, 'h1'), op: 'create', base_version: 0,
    fields: { supply_round_id: ROUND.id, household_id: 'h1', channel: 'proxy', lines: [{ package_id: 'p1', qty: 2 }], status: 'placed' },
  });
});

test('a known order is updated on the version seen, and a cancelled one placed again', async () => {
  const id = await orderIdOf(ROUND.id, 'h1');
  const placed = record('order', id, { status: 'placed', lines: [] }, 9);
  const change = await orderChange({ round: ROUND, householdId: 'h1', quantities: { p1: 1 }, channel: 'hotline', existing: placed, notes: ' 放门口 ' });
  assert.deepEqual(change, { type: 'order', id, op: 'update', base_version: 9, fields: { lines: [{ package_id: 'p1', qty: 1 }], notes: '放门口' } });
  const cancelled = record('order', id, { status: 'cancelled' }, 11);
  assert.equal((await orderChange({ round: ROUND, householdId: 'h1', quantities: { p1: 1 }, channel: 'proxy', existing: cancelled })).fields.status, 'placed');
});

test('an order without household, packages or with a bad count is refused before queueing', async () => {
  const cases = [
    [{ householdId: '', quantities: { p1: 1 } }, 'orders.input.household_required'],
    [{ householdId: 'h1', quantities: { p1: 0 } }, 'orders.input.nothing_ordered'],
    [{ householdId: 'h1', quantities: { p1: '1.5' } }, 'orders.input.bad_quantity'],
    [{ householdId: 'h1', quantities: { p1: 4 }, max: 3 }, 'orders.input.bad_quantity'],
    [{ householdId: 'h1', quantities: { p1: '-1' } }, 'orders.input.bad_quantity'],
  ];
  for (const [given, key] of cases) {
    await assert.rejects(() => orderChange({ round: ROUND, channel: 'proxy', ...given }), (error) => error instanceof OrderInputError && error.key === key);
  }
});

test('confirming records whether the leader phoned', () => {
  const order = record('order', 'o1', { status: 'placed' }, 4);
  assert.deepEqual(confirmChange(order, true), { type: 'order', id: 'o1', op: 'update', base_version: 4, fields: { status: 'confirmed', phoned: true } });
  assert.equal(confirmChange(order, false).fields.phoned, false);
});

test('a round is open from its opening to its cut-off', () => {
  assert.equal(isOpen(ROUND, new Date('2022-04-03T02:00:00Z')), true);
  assert.equal(isOpen(ROUND, new Date('2022-04-03T04:00:01Z')), false);
  assert.equal(isOpen(ROUND, new Date('2022-04-02T23:59:59Z')), false);
});

test('a refused order says what is short, or what is left when nothing is short any more', () => {
  const packages = new Map([['veg', record('package', 'veg', { name: '蔬菜包', stock: 1 })], ['meat', record('package', 'meat', { name: '肉蛋包', stock: 5 })]]);
  const lines = [{ package_id: 'veg', qty: 2 }, { package_id: 'meat', qty: 1 }];
  assert.deepEqual(whatIsLeft(lines, packages), [{ name: '蔬菜包', wanted: 2, left: 1 }]);
  packages.get('veg').fields.stock = 3;
  assert.deepEqual(whatIsLeft(lines, packages).map((row) => row.left), [3, 5]);
});

/** A small deterministic generator (xorshift), so the property below is repeatable. */
function random(seed) {
  let x = seed;
  return (n) => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return Math.abs(x) % n;
  };
}

test('the picking list holds exactly the confirmed orders, by building, unit and room', () => {
  const statuses = ['placed', 'confirmed', 'cancelled', 'delivered'];
  for (let seed = 1; seed <= 200; seed += 1) {
    const pick = random(seed);
    const buildings = new Map([1, 2, 10].map((n) => [`b${n}`, record('building', `b${n}`, { name: `${n}号楼`, number: n })]));
    const households = new Map();
    const orders = [];
    for (let i = 0; i < pick(25); i += 1) {
      const home = record('household', `h${i}`, { building_id: `b${[1, 2, 10][pick(3)]}`, unit: String(1 + pick(3)), room: `${1 + pick(6)}0${1 + pick(2)}` });
      households.set(home.id, home);
      const lines = ['p1', 'p2', 'p3'].filter(() => pick(2)).map((p) => ({ package_id: p, qty: 1 + pick(5) }));
      orders.push(record('order', `o${i}`, { household_id: home.id, status: statuses[pick(4)], lines: lines.length ? lines : [{ package_id: 'p1', qty: 1 }] }));
    }
    const list = pickingList(orders, households, buildings, new Map());
    const confirmed = orders.filter((o) => o.fields.status === 'confirmed');
    const expected = new Map();
    for (const o of confirmed) for (const l of o.fields.lines) expected.set(l.package_id, (expected.get(l.package_id) ?? 0) + l.qty);
    assert.deepEqual(new Map([...list.totals].sort()), new Map([...expected].sort()), `seed ${seed}`);
    const listed = list.buildings.flatMap((b) => b.units.flatMap((u) => u.rooms.map((r) => [b.id, u.unit, r])));
    assert.deepEqual(listed.map(([, , r]) => r.orderId).sort(), confirmed.map((o) => o.id).sort(), `seed ${seed}`);
    for (const [buildingId, unit, room] of listed) {
      const home = households.get(room.householdId);
      assert.deepEqual([buildingId, unit, room.room], [home.fields.building_id, home.fields.unit, home.fields.room]);
    }
    assert.deepEqual(list.buildings.map((b) => b.name), [...list.buildings].sort((a, b) => a.number - b.number).map((b) => b.name));
  }
});

test('a chain list is confirmed only when every line is taken or skipped', () => {
  const entry = (line, extra) => ({ line, household_id: null, candidates: [], lines: [{ package_id: 'p1', qty: 1 }], problems: [], ready: false, ...extra });
  const entries = [
    entry(1, { lines: [], problems: [{ code: 'not_an_entry', text: '' }] }),
    entry(2, { household_id: 'h1', ready: true }),
    entry(3, { candidates: ['h2', 'h3'], problems: [{ code: 'ambiguous_address', text: '12-502' }] }),
    entry(4, { household_id: 'h1', problems: [{ code: 'repeated', text: '2' }] }),
    entry(5, { household_id: 'h4', lines: [], problems: [{ code: 'unknown_package', text: '奶粉' }] }),
  ];
  const decisions = firstDecisions(entries);
  assert.deepEqual([...decisions.values()].map((d) => d.take), [false, true, null, false, null]);
  let { waiting, taken } = review(entries, decisions);
  assert.deepEqual([waiting.map((e) => e.line), taken.map((e) => e.line)], [[3, 5], [2]]);
  Object.assign(decisions.get(3), { take: true, household: 'h3' });
  decisions.get(5).take = false;
  ({ waiting, taken } = review(entries, decisions));
  assert.deepEqual([waiting.map((e) => e.line), taken.map((e) => e.line)], [[], [2, 3]]);
  // A line taken without a household or without items still waits.
  Object.assign(decisions.get(5), { take: true, household: 'h4' });
  assert.deepEqual(review(entries, decisions).waiting.map((e) => e.line), [5]);
});

test('a round is opened with its compounds, its times in order as UTC, and an optional limit', () => {
  const input = {
    title: ' 周六团购 ', compound_ids: ['c1'], opens_at: '2022-04-03T00:00:00Z',
    cutoff_at: '2022-04-03T04:00:00Z', delivers_at: '2022-04-03T09:00:00Z', household_limit: '3',
  };
  assert.deepEqual(roundChange(input, 6, 'r1'), {
    type: 'supply_round', id: 'r1', op: 'create', base_version: 0,
    fields: {
      compound_ids: ['c1'], title: '周六团购', leader_id: 6, household_limit: 3,
      opens_at: '2022-04-03T00:00:00.000Z', cutoff_at: '2022-04-03T04:00:00.000Z', delivers_at: '2022-04-03T09:00:00.000Z',
    },
  });
  const bare = roundChange({ ...input, title: '', household_limit: '' }, null, 'r2').fields;
  assert.deepEqual([bare.title, bare.household_limit, bare.leader_id], [null, null, null]);
  const refused = [
    [{ compound_ids: [] }, 'compound_ids', 'supplies.input.compound_required'],
    [{ cutoff_at: '' }, 'cutoff_at', 'supplies.input.time_required'],
    [{ cutoff_at: input.opens_at }, 'cutoff_at', 'supplies.input.cutoff_after_opening'],
    [{ delivers_at: '2022-04-03T03:00:00Z' }, 'delivers_at', 'supplies.input.delivery_after_cutoff'],
    [{ household_limit: '0' }, 'household_limit', 'supplies.input.whole'],
    [{ household_limit: '2.5' }, 'household_limit', 'supplies.input.whole'],
  ];
  for (const [change, field, key] of refused) {
    assert.throws(() => roundChange({ ...input, ...change }), (e) => e instanceof OrderInputError && e.field === field && e.key === key, key);
  }
});

test('a package is priced in yuan as typed, kept in cents, and a restock only adds', () => {
  const made = packageChange('r1', { name: ' 蔬菜包 ', contents: '', price: '39.9', stock: '400' }, 'p1');
  assert.deepEqual(made, {
    type: 'package', id: 'p1', op: 'create', base_version: 0,
    fields: { supply_round_id: 'r1', name: '蔬菜包', contents: null, price_cents: 3990, stock: 400 },
  });
  assert.equal(packageChange('r1', { name: 'x', price: '0.07', stock: '0' }).fields.price_cents, 7);
  assert.equal(packageChange('r1', { name: 'x', price: '99999.99', stock: '1' }).fields.price_cents, 9_999_999);
  const refused = [
    [{ name: ' ', price: '1', stock: '1' }, 'supplies.input.name_required'],
    [{ name: 'x', price: '1.234', stock: '1' }, 'supplies.input.bad_price'],
    [{ name: 'x', price: '-1', stock: '1' }, 'supplies.input.bad_price'],
    [{ name: 'x', price: '100000', stock: '1' }, 'supplies.input.bad_price'],
    [{ name: 'x', price: '1', stock: '-1' }, 'supplies.input.whole'],
    [{ name: 'x', price: '1', stock: '' }, 'supplies.input.whole'],
  ];
  for (const [input, key] of refused) {
    assert.throws(() => packageChange('r1', input), (e) => e instanceof OrderInputError && e.key === key, key);
  }
  assert.deepEqual(restockChange('p1', '20', 's1'), { type: 'restock', id: 's1', op: 'create', base_version: 0, fields: { package_id: 'p1', qty: 20 } });
  for (const qty of ['0', '', '1.5', '-3']) {
    assert.throws(() => restockChange('p1', qty), (e) => e instanceof OrderInputError && e.key === 'supplies.input.whole', qty);
  }
});
