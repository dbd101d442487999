// An in-memory stand-in for the sync server: just enough of the contract
// (push idempotency, claim conflicts, pull by cursor with pages) to drive
// the client's sync loop. Not a model of the real conflict rules.
import { ApiError, NetworkError } from '../../web/app/api.js';

export function createFakeServer({ userId = 'u-vol-a' } = {}) {
  const records = new Map(); // id -> {type,id,version,deleted,fields}
  const seen = new Map(); // changeset id -> result
  let highWater = 0;
  const calls = { push: [], pull: [] };
  let failNext = null;
  let failNextRetryAfterMs = null;
  let epoch = 'db-1';
  let grants = []; // the user's break-the-glass grants in force: {compound_id, expires_at}
  const outside = new Set(); // compounds outside the user's scope unless a grant opens them
  const visible = (record) => !outside.has(record.fields.compound_id)
    || grants.some((grant) => grant.compound_id === record.fields.compound_id);

  function write(type, id, fields, deleted = false) {
    highWater += 1;
    const current = records.get(id);
    const record = { type, id, version: highWater, deleted, fields: deleted ? {} : { ...(current?.fields ?? {}), ...fields } };
    records.set(id, record);
    return record;
  }

  function applyChange(change) {
    const current = records.get(change.id);
    if (change.op === 'create') return { ok: true, record: write(change.type, change.id, change.fields) };
    if (!current || !visible(current)) return { ok: false, code: 'not_found' };
    if (current.deleted) return { ok: false, code: 'deleted', record: current };
    if (change.fields?.status === 'claimed' && current.fields.assignee_id && current.fields.assignee_id !== userId) {
      return { ok: false, code: 'already_claimed', record: current };
    }
    const fields = { ...change.fields };
    if (fields.status === 'claimed' && !fields.assignee_id) fields.assignee_id = userId;
    return { ok: true, record: write(change.type, change.id, fields, change.op === 'delete') };
  }

  function pushOne(changeset) {
    if (seen.has(changeset.id)) return seen.get(changeset.id);
    const results = [];
    let failed = false;
    for (const change of changeset.changes) {
      if (failed) {
        results.push({ type: change.type, id: change.id, status: 'rejected', conflict: { code: 'aborted', detail: '' } });
        continue;
      }
      const outcome = applyChange(change);
      if (outcome.ok) results.push({ type: change.type, id: change.id, status: 'applied', version: outcome.record.version });
      else {
        failed = true;
        results.push({
          type: change.type, id: change.id, status: 'rejected',
          conflict: { code: outcome.code, detail: outcome.code, record: outcome.record },
        });
      }
    }
    const result = { id: changeset.id, status: failed ? 'rejected' : 'applied', changes: results };
    seen.set(changeset.id, result);
    return result;
  }

  function maybeFail() {
    const failure = failNext;
    const retryAfterMs = failNextRetryAfterMs;
    failNext = null;
    failNextRetryAfterMs = null;
    if (failure === 'network') throw new NetworkError(new Error('no signal'));
    if (typeof failure === 'number') throw new ApiError(failure, { title: 'fail', status: failure }, retryAfterMs);
  }

  return {
    records,
    calls,
    seed(type, id, fields) {
      return write(type, id, fields);
    },
    /** Write as another user would: bumps versions like a concurrent edit. */
    otherUserWrites(type, id, fields) {
      return write(type, id, fields);
    },
    /** Restore an older backup: only the records up to `version` are left, in a new database. */
    restoreBackupOf(version) {
      for (const [id, record] of records) if (record.version > version) records.delete(id);
      highWater = version;
      epoch = `db-${version}-restored`;
    },
    /** Keep the records of `compoundId` (by their compound_id) out of the user's scope. */
    outsideScope(compoundId) {
      outside.add(compoundId);
    },
    /** Open a compound to the user until `expiresAt` (ISO), as breaking the glass does. */
    grant(compoundId, expiresAt) {
      grants.push({ compound_id: compoundId, expires_at: expiresAt });
    },
    /** End the grants of a compound (expired or revoked on the server). */
    endGrant(compoundId) {
      grants = grants.filter((grant) => grant.compound_id !== compoundId);
    },
    /** Fail the next call: 'network', or an HTTP status (with the Retry-After it asks, in ms). */
    failNextWith(failure, { retryAfterMs = null } = {}) {
      failNext = failure;
      failNextRetryAfterMs = retryAfterMs;
    },
    get highWater() {
      return highWater;
    },
    transport: {
      async push(body, schema) {
        calls.push.push({ body: structuredClone(body), schema });
        maybeFail();
        const before = highWater;
        const results = body.changesets.map(pushOne);
        return { results, cursor: highWater > before ? highWater : null };
      },
      async pull(cursor, limit, types) {
        calls.pull.push({ cursor, limit, types });
        maybeFail();
        const newer = [...records.values()]
          .filter((r) => r.version > cursor && (!types || types.includes(r.type)) && visible(r))
          .sort((a, b) => a.version - b.version);
        const page = newer.slice(0, limit);
        const more = newer.length > limit;
        return {
          changes: structuredClone(page), cursor: more ? page.at(-1).version : highWater, more, epoch, grants: structuredClone(grants),
        };
      },
    },
  };
}
