/**
 * What a coordinator may do with a conflict record, as changes.
 *
 * Pure: no IO. A conflict keeps the value that lost a concurrent edit of one
 * field (contract, "Conflict rules"); restoring it is an ordinary update of
 * the record plus `resolved: true` on the conflict, in one changeset, and
 * resolving without restoring is the second change alone. Who may do either
 * comes from the published declarations (declarations.js), never restated.
 */
import { mayUpdateField } from '../declarations.js';

export const TYPE = 'conflict';

/** Return the conflicts still waiting for a coordinator, newest loss first. */
export function unresolved(conflicts) {
  return conflicts.filter((conflict) => !conflict.deleted && conflict.fields.resolved !== true)
    .sort((a, b) => String(b.fields.lost_made_at).localeCompare(String(a.fields.lost_made_at)) || a.id.localeCompare(b.id));
}

/** Return whether `user` may settle conflicts at all (mark them resolved). */
export function mayResolve(declarations, user) {
  return mayUpdateField(declarations, TYPE, user.role, 'resolved');
}

/**
 * Return whether `user` may put the lost value back into `record`: the
 * record is known and live, and the user may change that field of it.
 */
export function mayRestore(declarations, user, conflict, record) {
  return Boolean(record && !record.deleted && mayResolve(declarations, user)
    && mayUpdateField(declarations, record.type, user.role, conflict.fields.field));
}

/** Return the change that marks `conflict` resolved. */
export function resolveChange(conflict) {
  return { type: TYPE, id: conflict.id, op: 'update', base_version: conflict.version ?? 0, fields: { resolved: true } };
}

/**
 * Return the changes that restore the lost value of `conflict` into
 * `record` (the device's latest view of it): one changeset's worth.
 */
export function restoreChanges(conflict, record) {
  const { field, lost_value: lost } = conflict.fields;
  return [
    { type: record.type, id: record.id, op: 'update', base_version: record.version ?? 0, fields: { [field]: lost } },
    resolveChange(conflict),
  ];
}

/** Return how many conflicts wait for a coordinator (the home tile's count). */
export function waitingCount(conflicts) {
  return unresolved(conflicts).length;
}
