/**
 * Queue the user's changesets on the device until the server accepts them.
 *
 * A changeset is what one user action changed, sent as one atomic unit:
 *
 *     {seq, id, made_at, schema, state, changes: [{type, id, op,
 *      base_version, fields}], rejection?}
 *
 * `seq` (autoIncrement) keeps the order the user made them in; `id` is the
 * idempotency key the server remembers, so the same changeset may be sent
 * any number of times. `state` is `pending` until a push settles it; an
 * accepted one is removed, a rejected one is set aside (`rejected`) with the
 * server's reason until the user retries or discards it. A set-aside
 * changeset blocks only the later changesets that touch one of its records:
 * everything else keeps flowing.
 */
import { newId } from './ids.js';
import { SCHEMA_VERSION } from './schema.js';

export const EXPORT_FORMAT = 'weiguang-outbox';
const OPS = new Set(['create', 'update', 'delete']);

/** Return the "type:id" key of every record a changeset touches. */
export function recordKeys(changeset) {
  return changeset.changes.map((change) => `${change.type}:${change.id}`);
}

function checkChange(change) {
  if (!change || typeof change.type !== 'string' || typeof change.id !== 'string') {
    throw new TypeError('a change needs a type and an id');
  }
  if (!OPS.has(change.op)) throw new TypeError(`unknown op ${change.op}`);
}

function normalizeChange(change) {
  checkChange(change);
  const out = { type: change.type, id: change.id, op: change.op, base_version: change.base_version ?? 0 };
  if (change.op !== 'delete') out.fields = { ...(change.fields ?? {}) };
  return out;
}

/**
 * Return the ids of pending changesets that wait behind a set-aside one.
 *
 * A changeset is blocked when an earlier set-aside or blocked changeset
 * touches one of its records: its edits were made on top of the rejected
 * ones, so sending them alone could apply half of what the user meant.
 */
export function blockedIds(queue) {
  const blockedKeys = new Set();
  const ids = new Set();
  for (const changeset of queue) {
    const keys = recordKeys(changeset);
    const isBlocked = changeset.state === 'pending' && keys.some((key) => blockedKeys.has(key));
    if (changeset.state === 'rejected' || isBlocked) keys.forEach((key) => blockedKeys.add(key));
    if (isBlocked) ids.add(changeset.id);
  }
  return ids;
}

export function createOutbox(db, { now = () => new Date(), uuid = newId } = {}) {
  async function all() {
    return db.getAll('outbox'); // keyed by seq: already in order
  }

  async function byId(id) {
    return db.getFromIndex('outbox', 'id', id);
  }

  async function replace(changeset) {
    await db.put('outbox', changeset);
  }

  return {
    all,
    byId,

    /** Queue the changes of one user action as one changeset; return it. */
    async add(changes, { schema = SCHEMA_VERSION } = {}) {
      if (!Array.isArray(changes) || changes.length === 0) {
        throw new TypeError('a changeset needs at least one change');
      }
      const changeset = {
        id: uuid(),
        made_at: now().toISOString(),
        schema,
        state: 'pending',
        changes: changes.map(normalizeChange),
      };
      changeset.seq = await db.add('outbox', changeset);
      return changeset;
    },

    async pending() {
      return (await all()).filter((changeset) => changeset.state === 'pending');
    },

    /** Count the changesets queued and, of them, those set aside as rejected (one read). */
    async counts() {
      const queued = await all();
      return { queued: queued.length, rejected: queued.filter((changeset) => changeset.state === 'rejected').length };
    },

    async count() {
      return db.count('outbox');
    },

    /**
     * Return the next changesets to push, in order: pending, not blocked, all
     * of one schema (the push header names one), at most `limit`, and at
     * most one per record. The last rule lets the result of an edit decide
     * the fate of the next edit of the same record: if the server rejects a
     * claim, the "start" queued after it is held back instead of being
     * judged on its own. A changeset deferred this way defers those after it
     * on its records, so their order is kept.
     */
    async eligible(limit = 50) {
      const queue = await all();
      const blocked = blockedIds(queue);
      const taken = new Set();
      const batch = [];
      for (const changeset of queue) {
        if (changeset.state !== 'pending' || blocked.has(changeset.id)) continue;
        const keys = recordKeys(changeset);
        const deferred = keys.some((key) => taken.has(key));
        keys.forEach((key) => taken.add(key));
        if (deferred) continue;
        if (batch.length && changeset.schema !== batch[0].schema) break;
        batch.push(changeset);
        if (batch.length >= limit) break;
      }
      return batch;
    },

    /** Return the ids of pending changesets held back by a set-aside one. */
    async blocked() {
      return [...blockedIds(await all())];
    },

    /** Drop changesets the server accepted. */
    async remove(ids) {
      const tx = db.transaction('outbox', 'readwrite');
      for (const id of ids) {
        const key = await tx.store.index('id').getKey(id);
        if (key !== undefined) await tx.store.delete(key);
      }
      await tx.done;
    },

    /** Set a rejected changeset aside with the server's per-change results. */
    async setAside(id, changeResults) {
      const changeset = await byId(id);
      if (!changeset) return;
      changeset.state = 'rejected';
      changeset.rejection = { at: now().toISOString(), changes: changeResults };
      await replace(changeset);
    },

    /**
     * Move later pending edits of a record onto the version the server gave
     * the author's own earlier edit: they were made on top of it, so that is
     * the version their author saw.
     */
    async rebase(type, id, fromVersion, toVersion) {
      for (const changeset of await this.pending()) {
        let touched = false;
        for (const change of changeset.changes) {
          if (change.type === type && change.id === id && (change.base_version ?? 0) === (fromVersion ?? 0)) {
            change.base_version = toVersion;
            touched = true;
          }
        }
        if (touched) await replace(changeset);
      }
    },

    /** Throw a set-aside changeset away: the user accepts the server's state. */
    async discard(id) {
      const changeset = await byId(id);
      if (changeset) await db.delete('outbox', changeset.seq);
    },

    /**
     * Queue a set-aside changeset's edits again as a new changeset.
     *
     * It needs a new id: the server answers a known id with its recorded
     * result whatever the content. `baseVersionOf(type, id)` gives the
     * version the user has now seen. The new changeset goes to the end of
     * the queue, behind the edits it was blocking.
     */
    async retry(id, baseVersionOf) {
      const old = await byId(id);
      if (!old || old.state !== 'rejected') return null;
      const changes = [];
      for (const change of old.changes) {
        changes.push({ ...change, base_version: await baseVersionOf(change.type, change.id) });
      }
      const tx = db.transaction('outbox', 'readwrite');
      await tx.store.delete(old.seq);
      const changeset = {
        id: uuid(),
        made_at: now().toISOString(),
        schema: old.schema,
        state: 'pending',
        changes: changes.map(normalizeChange),
      };
      changeset.seq = await tx.store.add(changeset);
      await tx.done;
      return changeset;
    },

    /** Write the whole queue as a plain object for a JSON file. */
    async exportAll(clientId) {
      return {
        format: EXPORT_FORMAT,
        format_version: 1,
        client_id: clientId ?? null,
        exported_at: now().toISOString(),
        changesets: (await all()).map(({ seq, ...rest }) => rest),
      };
    },

    /**
     * Add the changesets of an export that this device does not hold yet.
     *
     * Ids and made_at are kept: the server's idempotency then makes a second
     * import, or an import of edits that did reach the server, harmless.
     * Set-aside changesets come back as pending, to be judged again.
     */
    async importAll(data) {
      if (!data || data.format !== EXPORT_FORMAT || !Array.isArray(data.changesets)) {
        throw new TypeError('not a Weiguang outbox export');
      }
      const valid = data.changesets.filter(
        (c) =>
          c && typeof c.id === 'string' && typeof c.made_at === 'string' &&
          Array.isArray(c.changes) && c.changes.length > 0,
      );
      const prepared = valid.map((c) => ({
        id: c.id,
        made_at: c.made_at,
        schema: Number.isInteger(c.schema) ? c.schema : SCHEMA_VERSION,
        state: 'pending',
        changes: c.changes.map(normalizeChange), // throws on a bad change
      }));
      let added = 0;
      const tx = db.transaction('outbox', 'readwrite');
      for (const changeset of prepared) {
        if ((await tx.store.index('id').getKey(changeset.id)) !== undefined) continue;
        await tx.store.add(changeset);
        added += 1;
      }
      await tx.done;
      return { added, skipped: data.changesets.length - added };
    },
  };
}
