/**
 * Medicine requests on the device: triage order, decisions as changes.
 *
 * Pure, but for placesOf, which reads the few records some requests name.
 * The decisions a clinician may take come from the declared state machine
 * (declarations.js allowedMoves); this module only orders the queue, names
 * drop points and builds the changes.
 */
import { enumValues, machineOf } from '../declarations.js';

export const TYPE = 'med_request';

/** Sort: waiting before decided, then by urgency in its declared order, then the oldest first. */
export function triageOrder(declarations) {
  const urgencies = enumValues(declarations, TYPE, 'urgency');
  const final = new Set(machineOf(declarations, TYPE)?.final ?? []);
  const rank = (r) => urgencies.indexOf(r.fields.urgency);
  return (a, b) => Number(final.has(a.fields.status)) - Number(final.has(b.fields.status))
    || rank(a) - rank(b) || (a.version ?? Infinity) - (b.version ?? Infinity);
}

/** Return the change of one decision: the move's target, with an optional note appended. */
export function decisionChange(request, move, { note = '', author = '' } = {}) {
  const fields = { [move.field]: move.to };
  const text = note.trim();
  if (text) fields.notes = request.fields.notes ? `${request.fields.notes}\n${author}: ${text}` : `${author}: ${text}`;
  return { type: TYPE, id: request.id, op: 'update', base_version: request.version ?? 0, fields };
}

/** Return the change of a new urgency. */
export function urgencyChange(request, urgency) {
  return { type: TYPE, id: request.id, op: 'update', base_version: request.version ?? 0, fields: { urgency } };
}

/** Return a function naming a request's drop point: "3号楼 1单元 101室" (from the synced records). */
export function placeOf(residents, households, buildings) {
  const byId = (list) => new Map(list.map((r) => [r.id, r]));
  const [people, homes, blocks] = [byId(residents), byId(households), byId(buildings)];
  return (request) => {
    const home = homes.get(people.get(request.fields.resident_id)?.fields.household_id);
    if (!home) return blocks.get(request.fields.building_id)?.fields.name ?? '';
    return `${blocks.get(home.fields.building_id)?.fields.name ?? ''} ${home.fields.unit}单元 ${home.fields.room}室`;
  };
}

/**
 * Return placeOf's function for a few `requests`, reading only the residents,
 * households and buildings they name through `records` (the app's records
 * service, `some(type, ids)`): the urgent requests' home card and one
 * request's screen. Both read every resident and household before, 5,575
 * records of the demo neighbourhood at each redraw, and the card redraws
 * during a coordinator's first sync (issue 16). The queue, which names every
 * request's place, reads them all once.
 */
export async function placesOf(records, requests) {
  const some = async (type, list, pick) => {
    const ids = [...new Set(list.map(pick).filter(Boolean))];
    return ids.length ? (await records.some(type, ids)).filter(Boolean) : [];
  };
  const residents = await some('resident', requests, (r) => r.fields.resident_id);
  const households = await some('household', residents, (r) => r.fields.household_id);
  const buildings = await some('building', [...households, ...requests], (r) => r.fields.building_id);
  return placeOf(residents, households, buildings);
}
