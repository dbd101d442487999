import assert from 'node:assert/strict';
import { test } from 'node:test';

import { doorOrder, nextDoor, progress, readNeeds, statusOf, units, visitChange, VisitInputError, visitsByHousehold } from '../../web/app/screening/walk.js';
import { DECLARATIONS } from './helpers.js';

const home = (unit, floor, room) => ({ type: 'household', id: `h-${unit}-${room}`, fields: { unit, floor, room, compound_id: 'c', building_id: 'b' } });
const visit = (household, outcome, at) => ({ type: 'visit', id: `v-${household}-${at}`, fields: { household_id: household, outcome, visited_at: at } });

// Two stairwells of three floors, two flats a landing, listed out of order.
const HOMES = ['2', '1'].flatMap((unit) => [3, 1, 2].flatMap((floor) => [`${floor}02`, `${floor}01`].map((room) => home(unit, floor, room))));

test('doors come in climbing order: unit, floor, then room', () => {
  assert.deepEqual(doorOrder(HOMES).map((h) => `${h.fields.unit}-${h.fields.room}`),
    ['1-101', '1-102', '1-201', '1-202', '1-301', '1-302', '2-101', '2-102', '2-201', '2-202', '2-301', '2-302']);
  assert.deepEqual(units(HOMES).map(([unit, homes]) => [unit, homes.length]), [['1', 6], ['2', 6]]);
});

test('a household is visited once any knock was dealt with, no_answer while every knock went unanswered', () => {
  assert.equal(statusOf([]), 'not_yet');
  assert.equal(statusOf([visit('h', 'no_answer', '1'), visit('h', 'no_answer', '2')]), 'no_answer');
  for (const outcome of ['answered', 'refused', 'moved_out']) {
    assert.equal(statusOf([visit('h', 'no_answer', '1'), visit('h', outcome, '2')]), 'visited');
  }
});

test('progress counts every household once, whatever the visits', () => {
  const visits = [visit('h-1-101', 'answered', 'a'), visit('h-1-101', 'no_answer', 'b'), visit('h-1-102', 'no_answer', 'c'),
    visit('elsewhere', 'answered', 'd')];
  const counts = progress(HOMES, visitsByHousehold(visits));
  assert.deepEqual(counts, { households: 12, visited: 1, no_answer: 1, not_yet: 10 });
  assert.equal(counts.visited + counts.no_answer + counts.not_yet, counts.households);
});

test('the next door is the next one up the same stairwell not yet dealt with', () => {
  const byHousehold = visitsByHousehold([visit('h-1-102', 'answered', 'a'), visit('h-1-201', 'no_answer', 'b')]);
  assert.equal(nextDoor(HOMES, 'h-1-101', byHousehold).id, 'h-1-201');
  assert.equal(nextDoor(HOMES, 'h-1-302', byHousehold), null);
  assert.equal(nextDoor(HOMES, 'nobody', byHousehold), null);
});

test('history lists the newest visit first', () => {
  const list = visitsByHousehold([visit('h', 'no_answer', '2022-04-01T08:00:00Z'), visit('h', 'answered', '2022-04-01T09:00:00Z')]).get('h');
  assert.deepEqual(list.map((v) => v.fields.outcome), ['answered', 'no_answer']);
});

test('a save makes one append-only visit; unanswered doors carry nobody and no needs', () => {
  const now = new Date('2022-04-01T08:00:00.000Z');
  const answered = visitChange(DECLARATIONS, HOMES[0], { outcome: 'answered', present: '2', needs: ['translator', 'elderly_alone', 'bogus'], language: 'ja', notes: '  ' }, { id: 'v1', now });
  assert.deepEqual(answered, {
    type: 'visit', id: 'v1', op: 'create', base_version: 0,
    fields: { household_id: HOMES[0].id, compound_id: 'c', building_id: 'b', outcome: 'answered', present: 2, needs: ['elderly_alone', 'translator', 'lang:ja'], visited_at: now.toISOString() },
  });
  const shut = visitChange(DECLARATIONS, HOMES[0], { outcome: 'no_answer', present: '3', needs: ['pregnant'] }, { id: 'v2', now });
  assert.deepEqual([shut.fields.present, shut.fields.needs], [0, []]);
  assert.deepEqual(readNeeds(answered.fields.needs), { needs: ['elderly_alone', 'translator'], language: 'ja' });
});

test('what the declaration refuses is refused before it is queued', () => {
  assert.throws(() => visitChange(DECLARATIONS, HOMES[0], { outcome: 'maybe' }), VisitInputError);
  assert.throws(() => visitChange(DECLARATIONS, HOMES[0], { outcome: 'answered', present: '500' }),
    (error) => error instanceof VisitInputError && error.field === 'present');
  assert.throws(() => visitChange(DECLARATIONS, HOMES[0], { outcome: 'answered', present: '1', notes: 'x'.repeat(2001) }),
    (error) => error.field === 'notes');
});
