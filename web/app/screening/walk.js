/**
 * The screening walk, pure: door order, each household's status, progress,
 * the next door, and the visit a save makes.
 *
 * A volunteer climbs a stairwell floor by floor; households are listed in
 * that order (unit, floor, room). A household's status is the outcome of its
 * latest visit: `visited` once a door was dealt with (answered, refused,
 * moved out), `no_answer` while the latest knock went unanswered (go back),
 * `not_yet` without visits — the same counting as the server's
 * `screening_progress` (server/queries.py), which the board shows.
 */
import { checkValue, enumValues } from '../declarations.js';
import { naturalCompare } from '../i18n.js';
import { newId } from '../ids.js';

export const TYPE = 'visit';
export const STATUSES = Object.freeze(['visited', 'no_answer', 'not_yet']);
/** Needs a visit may carry, besides `lang:<tag>` for the translator's language. */
export const NEEDS = Object.freeze(['elderly_alone', 'pregnant', 'chronic_medicine', 'disability', 'translator']);
export const LANGUAGE_PREFIX = 'lang:';

const byNumber = (a, b) => naturalCompare(a, b);

/** Sort households the way a volunteer climbs: unit, then floor, then room. */
export function doorOrder(households) {
  return [...households].sort((a, b) =>
    byNumber(a.fields.unit, b.fields.unit) || a.fields.floor - b.fields.floor || byNumber(a.fields.room, b.fields.room));
}

/** Return when a visit happened (device time, else the server's stamp is all we have). */
const visitedAt = (visit) => visit.fields.visited_at ?? '';

/** Group visits by household, each list newest first. */
export function visitsByHousehold(visits) {
  const out = new Map();
  for (const visit of visits) {
    const list = out.get(visit.fields.household_id) ?? [];
    list.push(visit);
    out.set(visit.fields.household_id, list);
  }
  for (const list of out.values()) list.sort((a, b) => visitedAt(b).localeCompare(visitedAt(a)));
  return out;
}

/** Return a household's status from its visits (any order). */
export function statusOf(visits = []) {
  if (!visits.length) return 'not_yet';
  return visits.some((visit) => visit.fields.outcome !== 'no_answer') ? 'visited' : 'no_answer';
}

/** Count households per status: {households, visited, no_answer, not_yet}. */
export function progress(households, byHousehold) {
  const counts = { households: households.length, visited: 0, no_answer: 0, not_yet: 0 };
  for (const household of households) counts[statusOf(byHousehold.get(household.id))] += 1;
  return counts;
}

/** Group households (in door order) by unit: [[unit, households], ...]. */
export function units(households) {
  const out = new Map();
  for (const household of doorOrder(households)) {
    const list = out.get(household.fields.unit) ?? [];
    list.push(household);
    out.set(household.fields.unit, list);
  }
  return [...out];
}

/**
 * Return the door after `currentId` in the same unit still worth knocking on
 * (not yet visited, or no answer), or null at the top of the stairwell.
 */
export function nextDoor(households, currentId, byHousehold) {
  const ordered = doorOrder(households);
  const index = ordered.findIndex((household) => household.id === currentId);
  if (index < 0) return null;
  const unit = ordered[index].fields.unit;
  return ordered.slice(index + 1).find((household) =>
    household.fields.unit === unit && statusOf(byHousehold.get(household.id)) !== 'visited') ?? null;
}

/** A refused input: `field` and the message `{key, params}` explaining why. */
export class VisitInputError extends RangeError {
  constructor(field, problem) {
    super(problem.key);
    this.name = 'VisitInputError';
    this.field = field;
    this.problem = problem;
  }
}

/**
 * Build the create of a visit from what the volunteer entered.
 *
 * `input`: {outcome, present, needs: [...], language, notes}. A translator
 * need adds `lang:<language>` when a language is given; nobody is present
 * behind a door that was not answered.
 *
 * @throws {VisitInputError} naming the first field the declaration refuses.
 */
export function visitChange(declarations, household, input, { id = newId(), now = new Date() } = {}) {
  const outcome = input.outcome;
  if (!enumValues(declarations, TYPE, 'outcome').includes(outcome)) {
    throw new VisitInputError('outcome', { key: 'invalid.choice', params: {} });
  }
  const answered = outcome === 'answered';
  const present = answered ? Number(input.present ?? 0) : 0;
  const needs = answered ? NEEDS.filter((need) => (input.needs ?? []).includes(need)) : [];
  const language = (input.language ?? '').trim();
  if (needs.includes('translator') && language) needs.push(`${LANGUAGE_PREFIX}${language}`);
  const notes = (input.notes ?? '').trim() || null;
  // The place is the server's to copy from the household; sending it too lets
  // the device file the queued visit under its building at once.
  const place = { compound_id: household.fields.compound_id, building_id: household.fields.building_id };
  const fields = { household_id: household.id, ...place, outcome, present, needs, visited_at: now.toISOString() };
  if (notes) fields.notes = notes;
  for (const field of ['present', 'notes']) {
    const problem = checkValue(declarations, TYPE, field, fields[field] ?? null);
    if (problem) throw new VisitInputError(field, problem);
  }
  if (!Number.isInteger(present)) throw new VisitInputError('present', { key: 'invalid.range', params: { min: 0, max: 100 } });
  return { type: TYPE, id, op: 'create', base_version: 0, fields };
}

/** Split a visit's needs into the plain ones and the translator's language (or null). */
export function readNeeds(needs = []) {
  const language = needs.find((need) => need.startsWith(LANGUAGE_PREFIX))?.slice(LANGUAGE_PREFIX.length) ?? null;
  return { needs: needs.filter((need) => !need.startsWith(LANGUAGE_PREFIX)), language };
}
