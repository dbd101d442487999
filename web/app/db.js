/**
 * Keep the device's data in IndexedDB, through the vendored idb wrapper.
 *
 * Object stores:
 *
 * - `bundles`   the server's state of every synced record in scope, a bundle
 *               of records a value: {seq, type, compound_id, building_id,
 *               records: [record, ...]}, the records of one type and one place
 *               (building and compound; null where a record has none) that one
 *               write brought. A write of a page is a few hundred bundles, not a
 *               thousand records: on a throttled phone each IndexedDB request
 *               costs about as much as its value, so a record a request made a
 *               coordinator's first sync three times the budget (issue 16).
 *               Indexed by type, and by type with compound or building, so a
 *               screen of one building reads only that building's bundles.
 *               Tombstones are kept (deleted: true, fields {}, no place) so a
 *               late live event can never bring a deleted record back. Each
 *               record is in at most one bundle.
 * - `placed`    where each record is: key [type, shard] (SHARDS shards of a
 *               type, by a hash of the id), value Map id → bundle seq. Read
 *               before a write to find the copy a record replaces; a hint,
 *               checked against the bundle (a forgotten record may still be
 *               named). Key WRITTEN: the mark of the last write (a fresh
 *               random string each), so a connection that wrote last knows
 *               the shards it holds are those stored (see storeRecords).
 * - `outbox`    changesets not yet accepted by the server, in the order they
 *               were made (autoIncrement `seq`); see outbox.js.
 * - `attention` things the user must see: merges that lost fields, etc.
 * - `meta`      small key/value facts: cursor, client id, token, user.
 * - `photos`    photos of records waiting to be sent, apart from the outbox,
 *               keyed by id, indexed by record (`record`); see photos.js.
 *
 * Pending local edits are never written into `bundles`: the screens show the
 * server's state with the outbox re-applied on top (merge.js), so a pull can
 * overwrite the records freely without losing anything the user typed.
 */
import { openDB, unwrap } from '../vendor/idb/index.js';

export const DB_NAME = 'weiguang';
const DB_VERSION = 5;
/** Where-clauses recordsOfType() answers from an index: field → index name. */
const PLACE_INDEXES = Object.freeze({ compound_id: 'type_compound', building_id: 'type_building' });
/** Shards of `placed` a type: a write reads and writes at most these many values a type. */
const SHARDS = 16;
/** The most records a bundle holds: bounds what reading one record deserializes. */
const BUNDLE_LIMIT = 250;
/** The key in `placed` of the mark of the last write. */
const WRITTEN = 'written';
/**
 * The shards of `placed` each connection (the idb-wrapped database) wrote last, with
 * that write's mark: {mark, shards: Map shard key → Map id → seq, complete}, where
 * `complete` says they are all the shards stored (the store held none when this
 * connection began keeping them). Taken out while a write runs, put back when it has
 * committed.
 */
const keptShards = new WeakMap();

/** Open (and create or upgrade) the device database. */
export async function openStore(name = DB_NAME) {
  return openDB(name, DB_VERSION, {
    upgrade(db, oldVersion, _newVersion, transaction) {
      if (oldVersion < 1) {
        const outbox = db.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
        outbox.createIndex('id', 'id', { unique: true });
        db.createObjectStore('attention', { keyPath: 'seq', autoIncrement: true });
        db.createObjectStore('meta');
      }
      if (oldVersion < 3) db.createObjectStore('photos', { keyPath: 'id' }).createIndex('record', 'record_id');
      if (oldVersion < 5) {
        const bundles = db.createObjectStore('bundles', { keyPath: 'seq', autoIncrement: true });
        bundles.createIndex('type', 'type');
        for (const [field, index] of Object.entries(PLACE_INDEXES)) bundles.createIndex(index, ['type', field]);
        db.createObjectStore('placed');
        if (oldVersion >= 1) moveRecords(unwrap(db), unwrap(transaction));
      }
    },
  });
}

/**
 * Move the records of a store before version 5 (`records`, a record a value,
 * keyed by [type, id]) into bundles, then drop it, in the upgrade's transaction:
 * an upgrade that fails leaves the device as it was (outbox, records and all).
 */
function moveRecords(db, transaction) {
  const all = transaction.objectStore('records').getAll();
  all.onsuccess = () => {
    db.deleteObjectStore('records');
    placeRecords(transaction, all.result);
  };
  transaction.objectStore('meta').delete('newest'); // version 4's newest versions by type: unused since
}

export async function getMeta(db, key, fallback = undefined) {
  const value = await db.get('meta', key);
  return value === undefined ? fallback : value;
}

export async function setMeta(db, key, value) {
  await db.put('meta', value, key);
}

export async function deleteMeta(db, key) {
  await db.delete('meta', key);
}

/** Return the shard of `placed` that says where a record of `id` is. */
function shardOf(id) {
  let hash = 0;
  for (const char of String(id)) hash = (hash * 31 + char.charCodeAt(0)) % 65521;
  return hash % SHARDS;
}

/** Return a record (a tombstone too), or undefined when none is stored. */
export async function getRecord(db, type, id) {
  const tx = db.transaction(['bundles', 'placed']);
  const placed = await tx.objectStore('placed').get([type, shardOf(id)]);
  const seq = placed?.get(id);
  const bundle = seq === undefined ? undefined : await tx.objectStore('bundles').get(seq);
  return bundle?.records.find((record) => record.id === id);
}

/**
 * Return the live (not deleted) records of one type; `where` may narrow them
 * to one `compound_id` or `building_id` (read through its index).
 */
export async function recordsOfType(db, type, where = {}) {
  const field = Object.keys(PLACE_INDEXES).findLast((name) => where[name]);
  const bundles = field
    ? await db.getAllFromIndex('bundles', PLACE_INDEXES[field], [type, where[field]])
    : await db.getAllFromIndex('bundles', 'type', type);
  return bundles.flatMap((bundle) => bundle.records).filter((record) => !record.deleted);
}

/** Return every stored record, tombstones included ({type, id, version, deleted, fields}). */
export async function allRecords(db) {
  return (await db.getAll('bundles')).flatMap((bundle) => bundle.records);
}

/** Return the stored form of a record from the wire (put copies it: its fields are not copied here). */
function storedForm(record) {
  return {
    type: record.type,
    id: record.id,
    version: record.version,
    deleted: Boolean(record.deleted),
    fields: record.deleted ? {} : record.fields,
  };
}

/** Return the place a stored record is bundled by: its compound and building, null where none. */
function placeOf(record) {
  return { compound_id: record.fields?.compound_id ?? null, building_id: record.fields?.building_id ?? null };
}

/**
 * Store records and, in the same transaction, move the cursor.
 *
 * Atomic on purpose: the cursor must never be saved without the records it
 * covers, or a crash between the two would skip them for good. The cursor
 * never moves backwards. Pass cursor `undefined` to store records only.
 *
 * A record is stored unless the store already holds a newer version of it (of
 * several copies of one record, the newest counts; another tab may have
 * stored a newer one). See placeRecords for the requests a write costs.
 *
 * The connection keeps the shards of `placed` it wrote, in memory: while the
 * mark stored under WRITTEN is still that of its last write (no other tab
 * wrote since, nothing cleared the store), the next write reads none of them
 * again, nor any shard at all when the store held none as it began (a first
 * sync) — each page of a first sync read every shard of its types, about a
 * tenth of the device's time (issue 16). A write that does not commit keeps
 * nothing.
 */
export async function storeRecords(db, records, cursor) {
  const copies = new Map();
  for (const record of records) {
    const key = `${record.type}\u0000${record.id}`;
    const seen = copies.get(key);
    if (!seen || record.version >= seen.version) copies.set(key, record);
  }
  const tx = db.transaction(['bundles', 'placed', 'meta'], 'readwrite');
  const kept = keptShards.get(db);
  keptShards.delete(db);
  const written = placeRecords(unwrap(tx), [...copies.values()], kept);
  if (cursor !== undefined && cursor !== null) {
    const meta = unwrap(tx.objectStore('meta'));
    const stored = meta.get('cursor');
    stored.onsuccess = () => {
      if (cursor > (stored.result ?? 0)) meta.put(cursor, 'cursor');
    };
  }
  await tx.done;
  if (written) keptShards.set(db, written);
}

/**
 * Write `records` (one copy of each) into the bundles of the IndexedDB
 * transaction `tx` (unwrapped), each unless a newer copy is stored.
 *
 * Returns what the connection may keep once `tx` commits ({mark, shards,
 * complete}, see keptShards), or null when there is nothing to write. `kept` is
 * what it kept from its last write, if anything: when the stored mark is still
 * its mark, its shards are used as they are, not read.
 *
 * Plain requests chained by callbacks, no promise or listener per request
 * (through the idb wrapper those cost as much as the writes): read the mark
 * (when something is kept; else, or when it is another's, count the shards
 * stored), the shards of `placed` the records fall in that are neither kept
 * nor known absent (at most SHARDS a type), then the bundles
 * holding copies of them (none in most of a first sync), then put the bundles
 * changed, one new bundle for each type and place of the records left (of at
 * most BUNDLE_LIMIT records), the shards that name them and a new mark. A copy
 * in a bundle of the same place is replaced there; one of another place (the
 * record moved, or was deleted) leaves its bundle.
 */
function placeRecords(tx, records, kept = undefined) {
  if (records.length === 0) return null;
  const bundles = tx.objectStore('bundles');
  const placed = tx.objectStore('placed');
  // Each record's shard is hashed once here and looked up after: a write needs it four times.
  const shardKeys = new Map(); // record (and its stored form) → the key of its shard
  const shards = new Map(); // shard key → the shard's key in `placed`
  for (const record of records) {
    const shard = shardOf(record.id);
    const key = `${record.type}\u0000${shard}`;
    shardKeys.set(record, key);
    if (!shards.has(key)) shards.set(key, [record.type, shard]);
  }
  const shardKey = (record) => shardKeys.get(record);
  const written = { mark: crypto.randomUUID(), shards: new Map(), complete: false }; // shard key → Map id → seq
  const held = written.shards;
  const dirty = new Set();
  if (kept) {
    const mark = placed.get(WRITTEN);
    mark.onsuccess = () => (mark.result === kept.mark ? readShards(kept) : countShards());
  } else {
    countShards();
  }

  function countShards() {
    const count = placed.count();
    count.onsuccess = () => readShards({ shards: new Map(), complete: count.result === 0 });
  }

  function readShards(known) {
    for (const [key, shard] of known.shards) held.set(key, shard);
    written.complete = known.complete;
    if (known.complete) for (const key of shards.keys()) if (!held.has(key)) held.set(key, new Map());
    const unknown = [...shards].filter(([key]) => !held.has(key));
    let waiting = unknown.length;
    if (waiting === 0) readBundles();
    for (const [key, shard] of unknown) {
      const read = placed.get(shard);
      read.onsuccess = () => {
        held.set(key, read.result ?? new Map());
        if (--waiting === 0) readBundles();
      };
    }
  }

  function readBundles() {
    const seqs = new Set(records.map((record) => held.get(shardKey(record)).get(record.id)).filter((seq) => seq !== undefined));
    const found = new Map();
    let left = seqs.size;
    if (left === 0) write(found);
    for (const seq of seqs) {
      const read = bundles.get(seq);
      read.onsuccess = () => {
        if (read.result) found.set(seq, read.result);
        if (--left === 0) write(found);
      };
    }
  }

  function write(found) {
    const changed = new Set();
    const fresh = new Map(); // type and place → records for new bundles
    for (const record of records) {
      const stored = storedForm(record);
      shardKeys.set(stored, shardKey(record)); // what a new bundle holds: its put names them
      const place = placeOf(stored);
      const seq = held.get(shardKey(record)).get(record.id);
      const bundle = found.get(seq);
      const at = bundle ? bundle.records.findIndex((copy) => copy.id === record.id) : -1;
      if (at >= 0) {
        if (bundle.records[at].version > record.version) continue;
        changed.add(bundle);
        if (bundle.compound_id === place.compound_id && bundle.building_id === place.building_id) {
          bundle.records[at] = stored;
          continue;
        }
        bundle.records.splice(at, 1);
      }
      const key = JSON.stringify([stored.type, place.compound_id, place.building_id]);
      if (!fresh.has(key)) fresh.set(key, { type: stored.type, ...place, records: [] });
      fresh.get(key).records.push(stored);
    }
    for (const bundle of changed) {
      if (bundle.records.length) bundles.put(bundle);
      else bundles.delete(bundle.seq);
    }
    const made = [...fresh.values()].flatMap(({ records: all, ...place }) => Array.from(
      { length: Math.ceil(all.length / BUNDLE_LIMIT) },
      (_, i) => ({ ...place, records: all.slice(i * BUNDLE_LIMIT, (i + 1) * BUNDLE_LIMIT) }),
    ));
    let left = made.length;
    if (left === 0) writeShards();
    for (const bundle of made) {
      const put = bundles.put(bundle);
      put.onsuccess = () => {
        for (const record of bundle.records) {
          held.get(shardKey(record)).set(record.id, put.result);
          dirty.add(shardKey(record));
        }
        if (--left === 0) writeShards();
      };
    }
  }

  function writeShards() {
    for (const key of dirty) placed.put(held.get(key), shards.get(key));
    placed.put(written.mark, WRITTEN);
  }
  return written;
}

export async function getCursor(db) {
  return getMeta(db, 'cursor', 0);
}

export async function addAttention(db, item) {
  await db.add('attention', { ...item, at: item.at ?? new Date().toISOString() });
}

export async function listAttention(db) {
  return db.getAll('attention');
}

export async function dismissAttention(db, seq) {
  await db.delete('attention', seq);
}

/** Forget the synced records and the cursor, keeping the outbox and what needs attention. */
export async function forgetRecords(db) {
  const tx = db.transaction(['bundles', 'placed', 'meta'], 'readwrite');
  await tx.objectStore('bundles').clear();
  await tx.objectStore('placed').clear();
  await tx.objectStore('meta').delete('cursor');
  await tx.done;
}

/**
 * Forget the synced records `choose` picks from all those held ({type, id, fields}),
 * and the cursor, so that the next pull starts from 0; the outbox is kept.
 */
export async function forgetSomeRecords(db, choose) {
  const tx = db.transaction(['bundles', 'meta'], 'readwrite');
  const bundles = tx.objectStore('bundles');
  const held = await bundles.getAll();
  const chosen = new Set(choose(held.flatMap((bundle) => bundle.records)));
  const changed = held.filter((bundle) => bundle.records.some((record) => chosen.has(record)));
  await Promise.all([
    ...changed.map((bundle) => {
      bundle.records = bundle.records.filter((record) => !chosen.has(record));
      return bundle.records.length ? bundles.put(bundle) : bundles.delete(bundle.seq);
    }),
    tx.objectStore('meta').delete('cursor'),
    tx.done,
  ]);
}

/** Forget synced data (on sign-out of another user), keeping the outbox. */
export async function clearSyncedData(db) {
  const tx = db.transaction(['bundles', 'placed', 'attention', 'meta'], 'readwrite');
  await tx.objectStore('bundles').clear();
  await tx.objectStore('placed').clear();
  await tx.objectStore('attention').clear();
  await tx.objectStore('meta').delete('cursor');
  await tx.objectStore('meta').delete('devices'); // a coordinator's device names are theirs alone
  await tx.objectStore('meta').delete('grants'); // their break-the-glass grants (sync.js, rule 9)
  await tx.done;
}
