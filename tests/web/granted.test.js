// What a break-the-glass grant alone put on the device (web/app/glass/granted.js):
// when grant B ends, every kind of record is dropped if it lies only in B, and
// kept if it lies in the user's own scope or a grant still in force.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { grantedOnly } from '../../web/app/glass/granted.js';

const DECLARATIONS = JSON.parse(readFileSync(new URL('./fixtures/declarations.json', import.meta.url), 'utf8'));
const OWN_A = { scope_kind: 'compounds', scope_ids: ['A'] };

/** One record of `type` in compound `compound`, built from the published fields. */
function recordIn(type, compound, id = `${type}-${compound}`) {
  const declared = DECLARATIONS.types[type].fields;
  const fields = {};
  if ('compound_id' in declared) fields.compound_id = compound;
  if ('compound_ids' in declared) fields.compound_ids = [compound];
  if ('building_id' in declared) fields.building_id = `building-${compound}`;
  if (type === 'package') fields.supply_round_id = `supply_round-${compound}`;
  if (type === 'restock') fields.package_id = `package-${compound}`;
  if (type === 'conflict') Object.assign(fields, { record_type: 'task', record_id: `task-${compound}` });
  return { type, id: type === 'compound' ? compound : id, version: 1, deleted: false, fields };
}

const TYPES = Object.keys(DECLARATIONS.types);
const dropped = (records, ...args) => new Set(grantedOnly(records, ...args).map((r) => `${r.type} ${r.id}`));

test('every type: what lies only in the ended grant\'s compound goes, the user\'s own compound stays', () => {
  const records = TYPES.flatMap((type) => ['A', 'B', 'C'].map((compound) => recordIn(type, compound)));
  const gone = dropped(records, OWN_A, ['B'], ['C']);
  for (const record of records) {
    const where = record.type === 'compound' ? record.id : record.id.split('-').at(-1);
    assert.equal(gone.has(`${record.type} ${record.id}`), where === 'B', `${record.type} of ${where}`);
  }
});

test('a record shared with a compound still seen stays; one also in another ended grant goes', () => {
  const shared = { type: 'notice', id: 'n-ab', version: 1, fields: { compound_ids: ['A', 'B'] } };
  const round = { type: 'supply_round', id: 'r-bd', version: 1, fields: { compound_ids: ['B', 'D'] } };
  const gone = dropped([shared, round], OWN_A, ['B', 'D'], []);
  assert.deepEqual([...gone], ['supply_round r-bd']);
});

test('a user scoped to buildings keeps their buildings\' records of the compound, not the rest', () => {
  const user = { scope_kind: 'buildings', scope_ids: ['b-1'] };
  const mine = { type: 'household', id: 'h1', version: 1, fields: { compound_id: 'B', building_id: 'b-1' } };
  const theirs = { type: 'household', id: 'h2', version: 1, fields: { compound_id: 'B', building_id: 'b-2' } };
  const building = { type: 'building', id: 'b-1', version: 1, fields: { compound_id: 'B' } };
  assert.deepEqual([...dropped([mine, theirs, building], user, ['B'], [])], ['household h2']);
});

test('a record that cannot be placed is dropped (the pull from 0 brings it back if it is the user\'s)', () => {
  const orphan = { type: 'package', id: 'p', version: 1, fields: { supply_round_id: 'not-held' } };
  const tombstone = { type: 'task', id: 't', version: 2, deleted: true, fields: {} };
  assert.deepEqual([...dropped([orphan, tombstone], OWN_A, ['B'], [])], ['package p', 'task t']);
});

test('without a known user, everything of the grant\'s compound goes and nothing of another', () => {
  const records = [recordIn('task', 'A'), recordIn('task', 'B')];
  assert.deepEqual([...dropped(records, null, ['B'], [])], ['task task-B']);
});
