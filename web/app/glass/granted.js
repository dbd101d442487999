/**
 * What a break-the-glass grant alone put on this device (sync.js, rule 9).
 *
 * When a grant ends the device drops the records that lie in the grant's
 * compound and nowhere the user still sees — their own scope (the signed-in
 * user's `scope_kind` and `scope_ids`) and the grants still in force — and
 * keeps every other record; the outbox is never touched.
 *
 * A record lies where its fields say: a compound itself, `compound_id`, the
 * list `compound_ids`, and `building_id` for a user scoped to buildings.
 * A record that names no compound lies where the record it hangs from lies,
 * found by the contract's naming: a `<type>_id` field naming a record of
 * that type held here (a package's `supply_round_id`, a restock's
 * `package_id`), a conflict's `record_type` and `record_id`; up to
 * MAX_HOPS records away. A record that cannot be placed is dropped too:
 * the grant may have given it, and the pull from 0 that follows brings it
 * back if it is the user's.
 */

/** How far a record's place is looked for through the records it hangs from. */
export const MAX_HOPS = 3;

/**
 * Return the records to drop when the grants of `endedCompounds` end.
 *
 * @param {object[]} records every record held ({type, id, fields}).
 * @param {object} user the signed-in user ({scope_kind, scope_ids}).
 * @param {Iterable<string>} endedCompounds the compounds of the grants that ended.
 * @param {Iterable<string>} grantedCompounds the compounds of the grants still in force.
 */
export function grantedOnly(records, user, endedCompounds, grantedCompounds) {
  const ended = new Set(endedCompounds);
  const compounds = new Set(grantedCompounds);
  const buildings = new Set();
  const ids = Array.isArray(user?.scope_ids) ? user.scope_ids : [];
  if (user?.scope_kind === 'compounds') ids.forEach((id) => compounds.add(id));
  else if (user?.scope_kind === 'buildings') ids.forEach((id) => buildings.add(id));
  const byKey = new Map(records.map((record) => [`${record.type} ${record.id}`, record]));
  return records.filter((record) => {
    const place = placeOf(record, byKey, MAX_HOPS);
    if (place === null) return true;
    if (!place.compounds.some((id) => ended.has(id))) return false;
    const seen = place.compounds.some((id) => compounds.has(id)) || place.buildings.some((id) => buildings.has(id));
    return !seen;
  });
}

/** Return {compounds, buildings} a record lies in, or null when it cannot be told. */
function placeOf(record, byKey, hops) {
  const fields = record.fields ?? {};
  const compounds = [];
  const buildings = [];
  if (record.type === 'compound') compounds.push(record.id);
  if (record.type === 'building') buildings.push(record.id);
  if (typeof fields.compound_id === 'string') compounds.push(fields.compound_id);
  if (Array.isArray(fields.compound_ids)) compounds.push(...fields.compound_ids);
  if (typeof fields.building_id === 'string') buildings.push(fields.building_id);
  if (compounds.length) return { compounds, buildings };
  const parent = hops > 0 ? parentOf(record, byKey) : null;
  return parent ? placeOf(parent, byKey, hops - 1) : null;
}

/** Return the held record `record` hangs from, or null. */
function parentOf(record, byKey) {
  const fields = record.fields ?? {};
  if (record.type === 'conflict') return byKey.get(`${fields.record_type} ${fields.record_id}`) ?? null;
  for (const [name, value] of Object.entries(fields)) {
    if (!name.endsWith('_id') || typeof value !== 'string') continue;
    const found = byKey.get(`${name.slice(0, -'_id'.length)} ${value}`);
    if (found) return found;
  }
  return null;
}
