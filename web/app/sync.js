/**
 * Run the sync loop: push the outbox, pull by cursor, apply live events.
 *
 * One loop per device, single-flight: asking for a sync while one runs only
 * marks that another round is wanted, and every caller's promise settles
 * when a round that started after its request has finished.
 *
 *                 requestSync() · live event · online · retry timer
 *     ┌─────────┐ ────────────────────────────────────────────┐
 *     │  idle   │ ◀──────────── clean round ─────────┐        ▼
 *     └─────────┘                                    │   ┌──────────┐  a batch of eligible changesets
 *          ▲  live event: local cursor ≥ prev:       │   │ pushing  │◀─┐ → POST /sync/push, settle
 *          │  store records, move to event cursor    │   └────┬─────┘ ─┘   each changeset
 *          │  (else / empty poke: want a round)      │        │ nothing eligible left
 *          │                                         │   ┌────▼─────┐  page → store records and
 *          │                                         └── │ pulling  │◀─┐ cursor in one transaction,
 *          │                                             └────┬─────┘ ─┘ while `more`
 *     ┌────┴────┐    retry timer (backoff with jitter)       │ no answer, 5xx, 429
 *     │ waiting │ ◀──────────────────────────────────────────┘
 *     └─────────┘
 *     offline         navigator says offline: no attempts until `online`
 *     signed_out      401 anywhere: stop; outbox kept; resumeAfterSignIn()
 *     update_required 426: the server no longer takes our schema
 *
 * Rules this module keeps (numbered so tests can name them):
 *
 * 1. The cursor is saved only together with the page it covers.
 * 2. A rejected changeset is set aside with its reason; only later
 *    changesets touching the same records wait behind it.
 * 3. An accepted changeset leaves the outbox; later edits of the same record
 *    move onto the version the server gave it.
 * 4. A live event applies only when the local cursor is at least its `prev`;
 *    otherwise (and for an empty poke) the loop pulls. Events queued while
 *    the store writes are applied together, in order, in one transaction.
 * 5. A 401 never loses the outbox; the loop stops until sign-in.
 * 6. A first sync (cursor 0) fetches the records a user works from first —
 *    tasks, buildings, compounds — without moving the cursor, then pulls
 *    everything from 0 (the repeats are ignored as not newer).
 * 7. A refusal that says when to come back (a 429 or 503 with Retry-After)
 *    is retried no sooner than that, and no later than the longest backoff.
 * 8. A pull names its database (`epoch`). When it names another than the one
 *    the device synced from — a backup was restored, which rewinds the
 *    versions below the device's cursor — the device forgets its synced
 *    records and cursor (never the outbox) and pulls everything again.
 * 9. A break-the-glass grant a pull named that ends (gone from a pull, or
 *    expired by this device's clock: each round, and a timer) makes the
 *    device forget what the grant alone gave — the records of its compound
 *    outside the user's own scope and the grants still in force
 *    (glass/granted.js) — and its cursor, never the user's own records or
 *    the outbox; a new one pulls from 0 (docs/security.md, "break the glass").
 */
import { ApiError, NetworkError } from './api.js';
import { createBackoff, MAX_BACKOFF_MS } from './backoff.js';
import {
  addAttention, forgetRecords, forgetSomeRecords, getCursor, getMeta, getRecord, setMeta, storeRecords,
} from './db.js';
import { grantedOnly } from './glass/granted.js';
import { applyChange } from './merge.js';

export const PHASE = Object.freeze({
  IDLE: 'idle',
  PUSHING: 'pushing',
  PULLING: 'pulling',
  WAITING: 'waiting',
  OFFLINE: 'offline',
  SIGNED_OUT: 'signed_out',
  UPDATE_REQUIRED: 'update_required',
});

/** The largest page the server gives (sync-contract.md, Pull): fewer round trips in a first sync. */
export const PULL_PAGE_LIMIT = 1000;
export const PUSH_BATCH_SIZE = 50;
/** What a first sync fetches before everything else (rule 6). */
export const FIRST_SYNC_TYPES = Object.freeze(['task', 'building', 'compound']);
/** Performance marks of a first sync's milestones (bench/device.py times them from sign-in). */
const FIRST_TYPES_MARK = 'sync:first-types';
const FIRST_SYNC_MARK = 'sync:first-sync';
/** What pullPages returns when the records must be pulled again from 0 (rules 8 and 9). */
const REWOUND = Symbol('rewound');
/** Where the device keeps the grants the last pull named (rule 9). */
const GRANTS_META = 'grants';

const STOPPED = new Set([PHASE.SIGNED_OUT, PHASE.UPDATE_REQUIRED]);

/** Strip a queued changeset down to what the wire carries. */
function wireChangeset(changeset) {
  return { id: changeset.id, made_at: changeset.made_at, changes: changeset.changes };
}

export function createSyncEngine({
  db,
  outbox,
  transport,
  clientId,
  backoff = createBackoff(),
  timers = globalThis,
  now = () => new Date(),
  pageLimit = PULL_PAGE_LIMIT,
  pushBatchSize = PUSH_BATCH_SIZE,
  online = true,
  lastSyncAt = null, // the last clean round before this page loaded (kept in meta)
}) {
  const state = {
    phase: online ? PHASE.IDLE : PHASE.OFFLINE,
    online,
    lastSyncAt,
    firstSync: null, // {pages, records} while the first pull runs
    lastError: null,
    retryAt: null,
  };
  const listeners = new Set();
  const events = [];
  let roundWanted = false;
  let running = null;
  let retryTimer = null;
  let grantTimer = null;

  /**
   * Tell listeners `what` happened; for 'records', `types` names the record
   * types touched and `touched` the records ({type, id, ...}) themselves.
   */
  function emit(what, types = [], touched = []) {
    for (const listener of listeners) listener(what, state, types, touched);
  }

  const typesOf = (records) => [...new Set(records.map((record) => record.type))];

  function setPhase(phase) {
    if (state.phase === phase) return;
    state.phase = phase;
    emit('state');
  }

  function clearRetry() {
    if (retryTimer !== null) timers.clearTimeout(retryTimer);
    retryTimer = null;
    state.retryAt = null;
  }

  /** Retry after the backoff's delay, or after what the server asked (429, 503) if longer. */
  function scheduleRetry(serverAskedMs = null) {
    clearRetry();
    const delay = Math.max(backoff.next(), Math.min(serverAskedMs ?? 0, MAX_BACKOFF_MS));
    state.retryAt = new Date(now().getTime() + delay).toISOString();
    retryTimer = timers.setTimeout(() => {
      retryTimer = null;
      // Nobody awaits a timer: failures are already in state.lastError. The
      // promise is returned for tests that drive the timers by hand.
      return requestSync().catch(() => {});
    }, delay);
  }

  async function settleApplied(changeset, result) {
    for (const [index, changeResult] of (result.changes ?? []).entries()) {
      const change = changeset.changes[index];
      if (!change) continue;
      if (changeResult.status === 'applied' && Number.isInteger(changeResult.version)) {
        await outbox.rebase(change.type, change.id, change.base_version, changeResult.version);
        // Show the accepted edit at once; the next pull brings the full truth.
        const base = await getRecord(db, change.type, change.id);
        const provisional = applyChange(base, change);
        await storeRecords(db, [{ ...provisional, version: changeResult.version }]);
      } else if (changeResult.status === 'merged') {
        await addAttention(db, {
          kind: 'merged',
          changeset_id: changeset.id,
          record: { type: change.type, id: change.id },
          lost_fields: changeResult.lost_fields ?? [],
          fields: change.fields ?? {},
        });
      }
    }
  }

  async function settleRejected(changeset, result) {
    await outbox.setAside(changeset.id, result.changes ?? []);
    const serverRecords = (result.changes ?? []).map((c) => c.conflict?.record).filter(Boolean);
    if (serverRecords.length) await storeRecords(db, serverRecords);
  }

  /** Apply a push response; return how many changesets it settled. */
  async function applyPushResults(batch, response) {
    const results = new Map((response?.results ?? []).map((r) => [r.id, r]));
    const accepted = [];
    for (const changeset of batch) {
      const result = results.get(changeset.id);
      if (!result) continue; // not settled: stays pending and goes again
      if (result.status === 'applied') {
        await settleApplied(changeset, result);
        accepted.push(changeset.id);
      } else {
        await settleRejected(changeset, result);
      }
    }
    if (accepted.length) {
      await outbox.remove(accepted);
      await setMeta(db, 'lastAcceptedChangeset', { id: accepted.at(-1), at: now().toISOString() });
    }
    return results.size ? batch.filter((c) => results.has(c.id)).length : 0;
  }

  async function pushAll() {
    for (;;) {
      const batch = await outbox.eligible(pushBatchSize);
      if (batch.length === 0) return;
      setPhase(PHASE.PUSHING);
      const response = await transport.push(
        { client_id: clientId, changesets: batch.map(wireChangeset) },
        batch[0].schema,
      );
      const settled = await applyPushResults(batch, response);
      emit('outbox');
      const changes = batch.flatMap((changeset) => changeset.changes);
      emit('records', typesOf(changes), changes);
      if (settled === 0) return; // the server settled nothing: do not spin
    }
  }

  async function pullAll() {
    for (;;) {
      const cursor = await getCursor(db);
      setPhase(PHASE.PULLING);
      // The database and grants the last page named, once checked (rules 8, 9): the
      // pages of the first types and those of the full pull after them are one series.
      const checked = { named: null };
      if (cursor === 0) {
        state.firstSync = { pages: 0, records: 0 };
        if ((await pullPages(0, checked, FIRST_SYNC_TYPES)) === REWOUND) continue;
        performance.mark(FIRST_TYPES_MARK); // the screens a user works from are usable
      }
      if ((await pullPages(cursor, checked)) !== REWOUND) {
        if (cursor === 0) performance.mark(FIRST_SYNC_MARK); // every page stored
        break;
      }
    }
    state.firstSync = null;
  }

  /**
   * Pull page by page from `cursor`; only a pull of every type moves the stored cursor.
   * Returns REWOUND when the server's database is another than the one the cursor
   * counts in (rule 8): the records and cursor are forgotten, the outbox kept.
   * `checked` ({named}) holds what the last page checked named, from this pull or the
   * one before it in the round; `types`, the record types to pull (all when absent).
   */
  async function pullPages(cursor, checked, types) {
    let coming = transport.pull(cursor, pageLimit, types);
    for (;;) {
      const page = await coming;
      const next = Number.isInteger(page?.cursor) ? page.cursor : cursor;
      const more = Boolean(page?.more) && next > cursor; // `next > cursor`: never loop on a stuck cursor
      // The next page is on its way while this one is stored (still one request at a time);
      // its failure, if any, is thrown when it is awaited.
      coming = more ? transport.pull(next, pageLimit, types) : null;
      coming?.catch(() => {});
      // Each check reads the store: a page naming what the page before named is not checked again.
      const named = JSON.stringify([page?.epoch, page?.grants]);
      if (named !== checked.named) {
        if (await renamed(page)) return REWOUND;
        checked.named = named;
      }
      const changes = page?.changes ?? [];
      await storeRecords(db, changes, types ? undefined : page?.cursor);
      if (state.firstSync) {
        state.firstSync.pages += 1;
        state.firstSync.records += changes.length;
        emit('state');
      }
      if (changes.length) emit('records', typesOf(changes), changes);
      if (!more) return;
      cursor = next;
    }
  }

  /**
   * Check what a page names, its database (rule 8) and grants (rule 9); return whether
   * to pull again from 0. What the device holds of both is read side by side: on a
   * throttled phone each store call of a first sync's check stood before its first
   * records were stored (issue 16).
   */
  async function renamed(page) {
    const [known, held] = await Promise.all([getMeta(db, 'epoch', null), getMeta(db, GRANTS_META, [])]);
    return (await rewound(page?.epoch, known)) || regranted(page?.grants, held);
  }

  /**
   * Forget what was synced from another database (a restored backup); remember this one.
   * `known`: the database the device synced from (null before its first pull).
   */
  async function rewound(epoch, known) {
    if (typeof epoch !== 'string' || known === epoch) return false;
    await setMeta(db, 'epoch', epoch);
    if (known === null) return false;
    await forgetRecords(db);
    return true;
  }

  const expired = (grant) => !(Date.parse(grant.expires_at) > now().getTime());
  const grantKey = (grant) => `${grant.compound_id} ${grant.expires_at}`;

  /**
   * Compare a pull's grants with those `holding` (rule 9); return whether to pull again
   * from 0. One swept by our clock stays held while the server's clock still names it.
   */
  async function regranted(grants, holding) {
    if (!Array.isArray(grants)) return false;
    const held = new Map(holding.map((grant) => [grantKey(grant), grant]));
    const named = new Set(grants.map(grantKey));
    const ended = [...held.values()].filter((grant) => !named.has(grantKey(grant)));
    const added = grants.some((grant) => !held.has(grantKey(grant)));
    const kept = grants.map((grant) => ({ ...grant, swept: held.get(grantKey(grant))?.swept ?? false }));
    if (JSON.stringify(kept) !== JSON.stringify(holding)) await setMeta(db, GRANTS_META, kept);
    if (ended.length) await endGrants(ended, kept);
    else if (added) await setMeta(db, 'cursor', 0);
    scheduleGrantSweep(kept);
    return ended.length > 0 || added;
  }

  /**
   * Forget what the `ended` grants alone gave (not the outbox, not the user's own
   * records); note each one not already noted (swept by our clock) for the user.
   */
  async function endGrants(ended, inForce) {
    const queued = await outbox.count();
    for (const grant of ended.filter((each) => !each.swept)) {
      const compound = await getRecord(db, 'compound', grant.compound_id);
      await addAttention(db, {
        kind: 'grant_ended',
        compound_id: grant.compound_id,
        compound_name: compound?.fields?.name ?? null,
        expires_at: grant.expires_at,
        queued,
      });
    }
    const user = await getMeta(db, 'user', null);
    const closed = ended.map((grant) => grant.compound_id);
    const open = inForce.filter((grant) => !expired(grant)).map((grant) => grant.compound_id);
    await forgetSomeRecords(db, (records) => grantedOnly(records, user, closed, open));
    emit('forgotten');
  }

  /** End the held grants expired by our clock, online or not. */
  async function sweepGrants() {
    const held = await getMeta(db, GRANTS_META, []);
    const due = held.filter((grant) => !grant.swept && expired(grant));
    if (due.length) {
      const swept = new Set(due.map(grantKey));
      await setMeta(db, GRANTS_META, held.map((grant) => (swept.has(grantKey(grant)) ? { ...grant, swept: true } : grant)));
      await endGrants(due, held.filter((grant) => !grant.swept && !swept.has(grantKey(grant))));
    }
    scheduleGrantSweep(held);
  }

  /** Sweep again at the earliest expiry not yet swept. */
  function scheduleGrantSweep(held) {
    if (grantTimer !== null) timers.clearTimeout(grantTimer);
    grantTimer = null;
    const soonest = Math.min(...held.filter((grant) => !grant.swept && !expired(grant)).map((grant) => Date.parse(grant.expires_at)));
    if (!Number.isFinite(soonest)) return;
    grantTimer = timers.setTimeout(() => {
      grantTimer = null;
      return sweepGrants().then(() => (state.online ? requestSync() : null)).catch(() => {});
    }, soonest - now().getTime());
  }

  function handleError(error) {
    state.lastError = { status: error.status ?? null, message: error.message, problem: error.problem ?? null };
    state.firstSync = null;
    if (error instanceof ApiError && error.status === 401) {
      clearRetry();
      setPhase(PHASE.SIGNED_OUT);
    } else if (error instanceof ApiError && error.status === 426) {
      clearRetry();
      setPhase(PHASE.UPDATE_REQUIRED);
    } else if (error instanceof NetworkError && !state.online) {
      clearRetry(); // the browser went offline meanwhile: 'online' brings the next round
      setPhase(PHASE.OFFLINE);
    } else if (error instanceof NetworkError || error instanceof ApiError) {
      setPhase(PHASE.WAITING);
      scheduleRetry(error.retryAfterMs);
    } else {
      throw error; // a bug of ours: let the caller see it
    }
  }

  async function round() {
    // Events received before this round's pull are covered by it.
    events.length = 0;
    await sweepGrants();
    if (!state.online) {
      setPhase(PHASE.OFFLINE);
      return;
    }
    clearRetry();
    try {
      await pushAll();
      await pullAll();
      backoff.reset();
      state.lastSyncAt = now().toISOString();
      await setMeta(db, 'lastSyncAt', state.lastSyncAt);
      state.lastError = null;
      // Offline since the round began (its answers still came): say so.
      setPhase(state.online ? PHASE.IDLE : PHASE.OFFLINE);
      emit('synced');
    } catch (error) {
      handleError(error);
    }
  }

  /**
   * Apply the queued live events that chain on from the local cursor, in one
   * transaction (events pile up while a slow store writes: one write then
   * covers them all); an event that does not chain, or is a poke, wants a round.
   */
  async function applyLive(queued) {
    let reach = await getCursor(db);
    const changes = [];
    for (const event of queued) {
      const eventChanges = Array.isArray(event?.changes) ? event.changes : [];
      if (eventChanges.length === 0 || !Number.isInteger(event.prev) || reach < event.prev) {
        roundWanted = true; // the round's pull covers this event and those after it
        break;
      }
      changes.push(...eventChanges);
      if (Number.isInteger(event.cursor)) reach = Math.max(reach, event.cursor);
    }
    if (changes.length === 0) return;
    await storeRecords(db, changes, reach);
    emit('records', typesOf(changes), changes);
  }

  async function loop() {
    while ((roundWanted || events.length) && !STOPPED.has(state.phase)) {
      if (roundWanted) {
        roundWanted = false;
        await round();
      } else {
        await applyLive(events.splice(0));
      }
    }
  }

  function kick() {
    if (!running) {
      running = loop().finally(() => {
        running = null;
      });
    }
    return running;
  }

  /** Ask for a full round; settle when a round after this call has run. */
  async function requestSync() {
    roundWanted = true;
    // A loop already past its last check would miss the flag: start one more.
    while (roundWanted && !STOPPED.has(state.phase)) {
      await kick();
    }
  }

  return {
    state,

    /**
     * Listen to 'state', 'incoming', 'records', 'outbox', 'synced' and 'forgotten' (the
     * synced records were forgotten: a grant ended, rule 9); return an unsubscribe.
     * Listeners get (what, state, types, touched): the record types a 'records'
     * event touched, and the records or changes themselves (each has type and id).
     */
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    requestSync,

    /**
     * Take a Socket.IO `changes` event. Its records are announced at once as
     * 'incoming' (the server's state, newer than or equal to what is stored:
     * a screen may show them now); 'records' follows when they are stored,
     * or the pull they call for has run.
     */
    async handleLive(event) {
      const changes = Array.isArray(event?.changes) ? event.changes : [];
      if (changes.length) emit('incoming', typesOf(changes), changes);
      events.push(event);
      await kick();
    },

    setOnline(isOnline) {
      state.online = isOnline;
      if (!isOnline) {
        clearRetry();
        setPhase(PHASE.OFFLINE);
        return Promise.resolve();
      }
      if (state.phase === PHASE.OFFLINE) setPhase(PHASE.IDLE);
      return requestSync();
    },

    /** Leave signed_out after a new sign-in and sync what waited. */
    async resumeAfterSignIn() {
      if (state.phase === PHASE.SIGNED_OUT) setPhase(state.online ? PHASE.IDLE : PHASE.OFFLINE);
      await requestSync();
    },

    /** Stop retrying (sign-out, tests). */
    stop() {
      clearRetry();
    },

    applyPushResults,
  };
}
