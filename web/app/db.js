/**
 * Keep the device's data in IndexedDB, through the vendored idb wrapper.
 *
 * Object stores:
 *
 * - `records`   the server's state of every synced record in scope, keyed by
 *               [type, id] (so the records of one type are one key range);
 *               tombstones are kept (deleted: true) so a late live event can
 *               never bring a deleted record back. Indexed by type with
 *               compound or building, so a screen of one building reads only
 *               that building's records.
 * - `outbox`    changesets not yet accepted by the server, in the order they
 *               were made (autoIncrement `seq`); see outbox.js.
 * - `attention` things the user must see: merges that lost fields, etc.
 * - `meta`      small key/value facts: cursor, client id, token, user, and
 *               `newest`, the newest version stored of each record type
 *               ({type: version}; see storeRecords).
 * - `photos`    photos of records waiting to be sent, apart from the outbox,
 *               keyed by id, indexed by record (`record`); see photos.js.
 *
 * Pending local edits are never written into `records`: the screens show the
 * server's state with the outbox re-applied on top (merge.js), so a pull can
 * overwrite `records` freely without losing anything the user typed.
 */
import { openDB, unwrap } from '../vendor/idb/index.js';

export const DB_NAME = 'weiguang';
const DB_VERSION = 4;
/** Where-clauses recordsOfType() answers from an index: field → index name. */
const PLACE_INDEXES = Object.freeze({ compound_id: 'type_compound', building_id: 'type_building' });
/** The meta key of the newest version stored of each record type. */
const NEWEST = 'newest';

/** Open (and create or upgrade) the device database. */
export async function openStore(name = DB_NAME) {
  return openDB(name, DB_VERSION, {
    upgrade(db, oldVersion, _newVersion, transaction) {
      if (oldVersion < 1) {
        db.createObjectStore('records', { keyPath: ['type', 'id'] });
        const outbox = db.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
        outbox.createIndex('id', 'id', { unique: true });
        db.createObjectStore('attention', { keyPath: 'seq', autoIncrement: true });
        db.createObjectStore('meta');
      }
      if (oldVersion < 2) {
        const records = transaction.objectStore('records');
        for (const [field, index] of Object.entries(PLACE_INDEXES)) records.createIndex(index, ['type', `fields.${field}`]);
      }
      if (oldVersion < 3) db.createObjectStore('photos', { keyPath: 'id' }).createIndex('record', 'record_id');
      if (oldVersion < 4) {
        // The key [type, id] answers by type; an index by type was one more write a record.
        const records = transaction.objectStore('records');
        if (records.indexNames.contains('type')) records.deleteIndex('type');
        noteNewest(transaction);
      }
    },
  });
}

/** Write down the newest version of each record type in the store (once, when upgrading). */
function noteNewest(transaction) {
  const newest = {};
  const scan = unwrap(transaction.objectStore('records')).openCursor();
  scan.onsuccess = () => {
    const at = scan.result;
    if (!at) {
      unwrap(transaction.objectStore('meta')).put(newest, NEWEST);
      return;
    }
    const { type, version } = at.value;
    newest[type] = Math.max(newest[type] ?? version, version);
    at.continue();
  };
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

export async function getRecord(db, type, id) {
  return db.get('records', [type, id]);
}

/**
 * Return the live (not deleted) records of one type; `where` may narrow them
 * to one `compound_id` or `building_id` (read through its index).
 */
export async function recordsOfType(db, type, where = {}) {
  const field = Object.keys(PLACE_INDEXES).findLast((name) => where[name]);
  const all = field
    ? await db.getAllFromIndex('records', PLACE_INDEXES[field], [type, where[field]])
    : await db.getAll('records', IDBKeyRange.bound([type], [type, []])); // [] sorts after every id
  return all.filter((record) => !record.deleted);
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

/**
 * Store records and, in the same transaction, move the cursor.
 *
 * Atomic on purpose: the cursor must never be saved without the records it
 * covers, or a crash between the two would skip them for good. The cursor
 * never moves backwards. Pass cursor `undefined` to store records only.
 *
 * A record is put unless the store already holds a newer version of it (of
 * several copies of one record, the newest counts; another tab may have
 * stored a newer one). The meta entry `newest` ({type: version}, written in
 * the same transaction as the records) says which records need no look: one
 * newer than every stored record of its type is simply put — in a first
 * sync nearly all of them, the pages coming in version order — and only the
 * others are read first (on a throttled phone the read before each write
 * doubled the cost of storing a neighbourhood, issue 16). The reads and
 * writes are plain IndexedDB requests chained by callbacks in one
 * transaction, all issued at once: no promise and no event listener per
 * request (through the idb wrapper those cost as much as the writes); the
 * transaction's end is the one thing awaited.
 */
export async function storeRecords(db, records, cursor) {
  const copies = new Map();
  for (const record of records) {
    const key = `${record.type}\u0000${record.id}`;
    const seen = copies.get(key);
    if (!seen || record.version >= seen.version) copies.set(key, record);
  }
  const tx = db.transaction(['records', 'meta'], 'readwrite');
  const store = unwrap(tx.objectStore('records'));
  const meta = unwrap(tx.objectStore('meta'));
  const marks = meta.get(NEWEST);
  marks.onsuccess = () => {
    const newest = marks.result; // absent (never after the upgrade to version 4): every record is read
    for (const record of copies.values()) {
      if (newest && !(record.type in newest && record.version <= newest[record.type])) store.put(storedForm(record));
      else putUnlessOlder(store, record);
    }
    if (!newest || copies.size === 0) return;
    for (const record of copies.values()) newest[record.type] = Math.max(newest[record.type] ?? record.version, record.version);
    meta.put(newest, NEWEST);
  };
  if (cursor !== undefined && cursor !== null) {
    const stored = meta.get('cursor');
    stored.onsuccess = () => {
      if (cursor > (stored.result ?? 0)) meta.put(cursor, 'cursor');
    };
  }
  await tx.done;
}

/** Put `record` unless the store holds a newer version of it (read, then write, by callback). */
function putUnlessOlder(store, record) {
  const current = store.get([record.type, record.id]);
  current.onsuccess = () => {
    if (!(current.result && current.result.version > record.version)) store.put(storedForm(record));
  };
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
  const tx = db.transaction(['records', 'meta'], 'readwrite');
  await tx.objectStore('records').clear();
  await tx.objectStore('meta').delete('cursor');
  await tx.objectStore('meta').put({}, NEWEST);
  await tx.done;
}

/**
 * Forget the synced records `choose` picks from all those held ({type, id, fields}),
 * and the cursor, so that the next pull starts from 0; the outbox is kept.
 */
export async function forgetSomeRecords(db, choose) {
  const tx = db.transaction(['records', 'meta'], 'readwrite');
  const records = tx.objectStore('records');
  const chosen = choose(await records.getAll());
  await Promise.all([
    ...chosen.map((record) => records.delete([record.type, record.id])),
    tx.objectStore('meta').delete('cursor'),
    tx.done,
  ]);
}

/** Forget synced data (on sign-out of another user), keeping the outbox. */
export async function clearSyncedData(db) {
  const tx = db.transaction(['records', 'attention', 'meta'], 'readwrite');
  await tx.objectStore('records').clear();
  await tx.objectStore('attention').clear();
  await tx.objectStore('meta').delete('cursor');
  await tx.objectStore('meta').put({}, NEWEST);
  await tx.objectStore('meta').delete('devices'); // a coordinator's device names are theirs alone
  await tx.objectStore('meta').delete('grants'); // their break-the-glass grants (sync.js, rule 9)
  await tx.done;
}
