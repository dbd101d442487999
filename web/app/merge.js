/**
 * Show records as the user expects them: the server's state with the user's
 * pending edits re-applied on top.
 *
 * Pure functions, no IO. Pulled state lives in the `records` store and the
 * user's edits in the outbox; this module recombines them every time a screen
 * reads, so a pull never erases an edit that has not reached the server yet,
 * and an edit the server accepted simply stops being re-applied once it leaves
 * the outbox. Set-aside (rejected) changesets are not re-applied: the screen
 * shows the server's state and a "rejected" badge that leads to the reason.
 */

/** Sync state of one record as shown on its badge. */
export const SYNC_STATE = Object.freeze({
  SYNCED: 'synced',
  PENDING: 'pending',
  REJECTED: 'rejected',
});

const key = (type, id) => `${type}:${id}`;

/** Return a record with one change applied (does not modify its input). */
export function applyChange(record, change) {
  if (change.op === 'delete') {
    if (!record) return { type: change.type, id: change.id, version: change.base_version ?? 0, deleted: true, fields: {} };
    return { ...record, deleted: true, fields: { ...record.fields } };
  }
  const base = record ?? { type: change.type, id: change.id, version: change.base_version ?? 0, deleted: false, fields: {} };
  return { ...base, deleted: change.op === 'create' ? false : base.deleted, fields: { ...base.fields, ...change.fields } };
}

/** Return the view of a server record that no queued change touches. */
export function syncedView(base) {
  return { ...base, fields: { ...base.fields }, sync: SYNC_STATE.SYNCED, changesetIds: [] };
}

/**
 * Merge pending edits over server records.
 *
 * `records` is an iterable of server records; `changesets` the outbox in
 * order. Returns a Map "type:id" → view record carrying `sync` (a
 * SYNC_STATE) and `changesetIds` (the outbox entries touching it). Records
 * created on this device and not yet pushed appear too.
 */
export function mergePending(records, changesets) {
  const views = new Map();
  for (const record of records) views.set(key(record.type, record.id), syncedView(record));
  for (const changeset of changesets) {
    for (const change of changeset.changes) {
      const k = key(change.type, change.id);
      let view = views.get(k);
      if (changeset.state === 'rejected') {
        if (!view) continue; // never reached the server: nothing to show but the outbox entry
        view.sync = SYNC_STATE.REJECTED;
      } else {
        const applied = applyChange(view, change);
        view = { ...applied, sync: view?.sync ?? SYNC_STATE.SYNCED, changesetIds: view?.changesetIds ?? [] };
        if (view.sync !== SYNC_STATE.REJECTED) view.sync = SYNC_STATE.PENDING;
        views.set(k, view);
      }
      if (!view.changesetIds.includes(changeset.id)) view.changesetIds.push(changeset.id);
    }
  }
  return views;
}

/** Return the live (not deleted) views of one record type, as an array. */
export function viewsOfType(views, type) {
  return [...views.values()].filter((view) => view.type === type && !view.deleted);
}
