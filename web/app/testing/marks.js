/**
 * Marks of a testing round, pure: the contract's mark id, the change a tap
 * makes, and coverage per building and unit.
 *
 * Contract, "Identity of marks": a `test_result`'s id is the UUID version 5
 * (RFC 9562 §5.5: SHA-1 of the namespace's 16 bytes then the name's UTF-8)
 * of the resident's id in the namespace of the round's id, so every device
 * marking one resident writes the same record and the server's conflict
 * rules settle concurrent marks (the later one wins, the other is kept).
 */
import { enumValues } from '../declarations.js';
import { uuid5 } from '../ids.js';

export const TYPE = 'test_result';
/** Outcomes that count as tested. */
const TESTED = new Set(['tested', 'antigen_negative', 'antigen_positive']);

/** Return the id of a resident's mark in a round. */
export const markId = (roundId, residentId) => uuid5(roundId, residentId);

/**
 * Build the change that marks `resident` in `round` with `fields`
 * ({outcome?, needs_registration_help?}; a first mark needs an outcome). A mark the device already has is
 * updated from the version it saw; a first mark is a create under the
 * contract's id (a create of an id someone else made meanwhile is merged by
 * the server as an update).
 */
export async function markChange(declarations, round, resident, current, fields) {
  if ('outcome' in fields && !enumValues(declarations, TYPE, 'outcome').includes(fields.outcome)) {
    throw new RangeError(`not an outcome: ${fields.outcome}`);
  }
  const id = current?.id ?? await markId(round.id, resident.id);
  if (!current && !fields.outcome) throw new RangeError('a first mark needs an outcome');
  if (current) return { type: TYPE, id, op: 'update', base_version: current.version ?? 0, fields };
  // The place is the server's to copy from the resident; sending it too files
  // the queued mark under its building and household on this device at once.
  const place = {
    compound_id: resident.fields.compound_id, building_id: resident.fields.building_id, household_id: resident.fields.household_id,
  };
  return {
    type: TYPE, id, op: 'create', base_version: 0,
    fields: { test_round_id: round.id, resident_id: resident.id, ...place, ...fields },
  };
}

/** Return resident id → mark, of one round. */
export function marksByResident(marks, roundId) {
  return new Map(marks.filter((mark) => mark.fields.test_round_id === roundId).map((mark) => [mark.fields.resident_id, mark]));
}

/**
 * Count where a round stands among `residents`:
 * {residents, tested, absent, exempt, positive, missing, help}.
 */
export function coverage(residents, byResident) {
  const counts = { residents: residents.length, tested: 0, absent: 0, exempt: 0, positive: 0, missing: 0, help: 0 };
  for (const resident of residents) {
    const mark = byResident.get(resident.id);
    const outcome = mark?.fields.outcome;
    if (!mark) counts.missing += 1;
    else if (TESTED.has(outcome)) counts.tested += 1;
    else counts[outcome] += 1;
    if (outcome === 'antigen_positive') counts.positive += 1;
    if (mark?.fields.needs_registration_help) counts.help += 1;
  }
  return counts;
}
