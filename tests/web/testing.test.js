import assert from 'node:assert/strict';
import { test } from 'node:test';

import { uuid5 } from '../../web/app/ids.js';
import { coverage, markChange, marksByResident, markId } from '../../web/app/testing/marks.js';
import { DECLARATIONS } from './helpers.js';

const ROUND = { type: 'test_round', id: '6a7e4e52-0000-4000-8000-000000000003', fields: { status: 'open' } };
const resident = (id, extra = {}) => ({ type: 'resident', id, fields: { household_id: 'h1', compound_id: 'c', building_id: 'b', name: 'n', ...extra } });
const mark = (residentId, outcome, extra = {}) => ({ type: 'test_result', id: `m-${residentId}`, version: 3, fields: { test_round_id: ROUND.id, resident_id: residentId, outcome, ...extra } });

test('uuid5 is RFC 9562 version 5, as Python’s uuid.uuid5 computes it', async () => {
  // uuid.uuid5(uuid.NAMESPACE_DNS, 'python.org'), the RFC's DNS namespace.
  assert.equal(await uuid5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'python.org'), '886313e1-3b8a-5372-9b90-0c9aee199e5d');
  // The contract's mark id of resident …0007 in round …0003 (uuid.uuid5 in Python).
  assert.equal(await markId(ROUND.id, '6a7e4e52-0000-4000-8000-000000000007'), 'd769988e-c1ac-5c38-990d-34b547a928e8');
});

test('two devices marking one resident make the same create', async () => {
  const someone = resident('6a7e4e52-0000-4000-8000-000000000007');
  const one = await markChange(DECLARATIONS, ROUND, someone, null, { outcome: 'tested' });
  const other = await markChange(DECLARATIONS, ROUND, someone, null, { outcome: 'absent' });
  assert.equal(one.id, other.id);
  assert.deepEqual(one, {
    type: 'test_result', id: 'd769988e-c1ac-5c38-990d-34b547a928e8', op: 'create', base_version: 0,
    fields: { test_round_id: ROUND.id, resident_id: someone.id, compound_id: 'c', building_id: 'b', household_id: 'h1', outcome: 'tested' },
  });
});

test('a mark the device has is updated from the version it saw; a first mark needs an outcome', async () => {
  const someone = resident('r1');
  const change = await markChange(DECLARATIONS, ROUND, someone, mark('r1', 'absent'), { needs_registration_help: true });
  assert.deepEqual(change, { type: 'test_result', id: 'm-r1', op: 'update', base_version: 3, fields: { needs_registration_help: true } });
  await assert.rejects(markChange(DECLARATIONS, ROUND, someone, null, { needs_registration_help: true }), RangeError);
  await assert.rejects(markChange(DECLARATIONS, ROUND, someone, null, { outcome: 'maybe' }), RangeError);
});

test('coverage counts every resident once: tested (antigen results included), exempt, absent or missing', () => {
  const people = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => resident(id));
  const marks = marksByResident([mark('a', 'tested'), mark('b', 'antigen_positive', { needs_registration_help: true }),
    mark('c', 'antigen_negative'), mark('d', 'exempt'), mark('e', 'absent'), { ...mark('f', 'tested'), fields: { ...mark('f', 'tested').fields, test_round_id: 'other' } }], ROUND.id);
  const counts = coverage(people, marks);
  assert.deepEqual(counts, { residents: 6, tested: 3, absent: 1, exempt: 1, positive: 1, missing: 1, help: 1 });
  assert.equal(counts.tested + counts.absent + counts.exempt + counts.missing, counts.residents);
});
