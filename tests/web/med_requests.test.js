import assert from 'node:assert/strict';
import { test } from 'node:test';

import { allowedMoves } from '../../web/app/declarations.js';
import { decisionChange, placesOf, triageOrder } from '../../web/app/med_requests/rules.js';
import { DECLARATIONS } from './helpers.js';

const medic = { id: 7, username: 'medic', role: 'clinician' };
const volA = { id: 2, username: 'vol-a', role: 'volunteer' };
const request = (id, status, urgency, version) => ({ type: 'med_request', id, version, deleted: false, fields: { status, urgency, medicine: 'x', requested_by: 2 } });

test('the queue shows waiting requests first, the most urgent, then the oldest', () => {
  const list = [
    request('a', 'approved', 'urgent', 1), request('b', 'requested', 'routine', 2), request('c', 'requested', 'urgent', 9),
    request('d', 'needs_call', 'today', 3), request('e', 'requested', 'urgent', 4), request('f', 'rejected', 'routine', 5),
  ];
  // approved is not final (it waits for delivery), rejected is.
  assert.deepEqual(list.sort(triageOrder(DECLARATIONS)).map((r) => r.id), ['a', 'e', 'c', 'd', 'b', 'f']);
});

test('a clinician triages by the declared machine; a volunteer only cancels their own', () => {
  const moves = (r, user) => allowedMoves(DECLARATIONS, 'med_request', r, user).map((m) => m.action).sort();
  assert.deepEqual(moves(request('a', 'requested', 'urgent', 1), medic), ['approve', 'call', 'cancel', 'refer', 'reject']);
  assert.deepEqual(moves(request('a', 'needs_call', 'urgent', 1), medic), ['approve', 'cancel', 'refer', 'reject']);
  assert.deepEqual(moves(request('a', 'approved', 'urgent', 1), medic), ['again', 'cancel', 'deliver']);
  assert.deepEqual(moves(request('a', 'requested', 'urgent', 1), volA), ['cancel']);
  assert.deepEqual(moves(request('a', 'referred', 'urgent', 1), medic), []);
});

test('a decision moves the status on the version seen, with a note appended under its author', () => {
  const r = { ...request('a', 'requested', 'urgent', 6), fields: { ...request('a', 'requested', 'urgent', 6).fields, notes: '血糖高' } };
  assert.deepEqual(decisionChange(r, { field: 'status', to: 'needs_call' }, { note: ' 先电话 ', author: 'medic' }), {
    type: 'med_request', id: 'a', op: 'update', base_version: 6, fields: { status: 'needs_call', notes: '血糖高\nmedic: 先电话' },
  });
  assert.deepEqual(decisionChange(r, { field: 'status', to: 'approved' }).fields, { status: 'approved' });
});

test('a few requests\' drop points are named from the records they name, read by id', async () => {
  const held = {
    resident: [{ id: 'p1', fields: { household_id: 'h1' } }, { id: 'p2', fields: { household_id: 'h1' } }, { id: 'p3', fields: { household_id: 'h2' } }],
    household: [{ id: 'h1', fields: { building_id: 'b1', unit: 2, room: 301 } }, { id: 'h2', fields: { building_id: 'b2', unit: 1, room: 101 } }],
    building: [{ id: 'b1', fields: { name: '4号楼' } }, { id: 'b2', fields: { name: '5号楼' } }, { id: 'b3', fields: { name: '6号楼' } }],
  };
  const asked = [];
  const records = {
    async some(type, ids) {
      asked.push([type, ids]);
      return ids.map((id) => held[type].find((record) => record.id === id) ?? null);
    },
    async views() {
      throw new Error('a few requests read no whole type');
    },
  };
  const requests = [
    { id: 'm1', fields: { resident_id: 'p1' } },
    { id: 'm2', fields: { resident_id: 'p2' } },
    { id: 'm3', fields: { building_id: 'b3' } }, // no resident: the building it names
    { id: 'm4', fields: { resident_id: 'gone' } },
  ];
  const places = await placesOf(records, requests);
  assert.deepEqual(requests.map(places), ['4号楼 2单元 301室', '4号楼 2单元 301室', '6号楼', '']);
  assert.deepEqual(asked, [['resident', ['p1', 'p2', 'gone']], ['household', ['h1']], ['building', ['b1', 'b3']]]);
  asked.length = 0;
  await placesOf(records, []);
  assert.deepEqual(asked, [], 'nothing named, nothing read');
});
