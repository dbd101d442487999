/**
 * Keep photos of records (scaled down, JPEG) in the `photos` store and send
 * them apart from the outbox (docs/sync.md, "Contract extensions"):
 *
 * 1. A photo waits while the outbox holds a change of its record; the
 *    outbox never waits for a photo.
 * 2. No answer, 5xx, 429: retried (backoff, and each clean sync round).
 *    404 (record gone or not the user's), 409, 413, 415, 422: kept, refused.
 * 3. A sent photo's bytes leave the device; its entry stays, to say "sent".
 * 4. A photo keeps its maker's user id (`owner()` when kept): only the
 *    signed-in user's photos are listed and sent; another's wait for them.
 * Bytes are kept as an ArrayBuffer (every IndexedDB clones one).
 */
import { ApiError } from './api.js';
import { createBackoff, MAX_BACKOFF_MS } from './backoff.js';
import { newId } from './ids.js';
import { recordKeys } from './outbox.js';

export const MAX_PHOTO_SIDE_PX = 1600;
export const JPEG_QUALITY = 0.85;
/** Record type of each kind of photo (sync/attachments.py). */
export const PHOTO_KINDS = Object.freeze({ task_proof: 'task', prescription: 'med_request' });
export const PHOTO_STATE = Object.freeze({
  WAITING: 'waiting',
  SENDING: 'sending',
  RETRYING: 'retrying',
  SENT: 'sent',
  REFUSED: 'refused',
});
const FINAL_REFUSALS = new Set([404, 409, 413, 415, 422]);
/** Kind → [roles, the record's holder field] that may see its photos (sync/attachments.py KINDS). */
const VIEWERS = Object.freeze({ task_proof: [['coordinator'], 'assignee_id'], prescription: [['coordinator', 'clinician'], 'requested_by'] });

/** Whether `user` may see `kind` photos of `record` (the server answers 404 to the rest). */
export function mayViewPhotos(kind, record, user) {
  const [roles, holder] = VIEWERS[kind];
  return roles.includes(user.role) || (record.fields[holder] != null && String(record.fields[holder]) === String(user.id));
}

/** Return the size that fits `width` × `height` within `maxSide` a side, never larger. */
export function scaledSize(width, height, maxSide = MAX_PHOTO_SIDE_PX) {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** Return the image `file` as a JPEG Blob within MAX_PHOTO_SIDE_PX (browser only). */
export async function downscale(file, { maxSide = MAX_PHOTO_SIDE_PX, quality = JPEG_QUALITY } = {}) {
  const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  const { width, height } = scaledSize(bitmap.width, bitmap.height, maxSide);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d').drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the photo could not be drawn'))), 'image/jpeg', quality);
  });
}

export function createPhotoQueue(db, { now = () => new Date(), uuid = newId, owner = () => null } = {}) {
  const mine = (photos) => photos.filter((p) => p.owner_id === owner());
  async function update(id, changes) {
    const photo = await db.get('photos', id);
    if (photo) await db.put('photos', { ...photo, ...changes });
  }
  return {
    async add({ kind, recordId, blob }) {
      const data = await blob.arrayBuffer();
      const photo = {
        id: uuid(), owner_id: owner(), kind, record_type: PHOTO_KINDS[kind], record_id: recordId, type: blob.type || 'image/jpeg',
        data, bytes: data.byteLength, state: PHOTO_STATE.WAITING, detail: null, created_at: now().toISOString(),
      };
      await db.put('photos', photo);
      return { ...photo, data: undefined };
    },
    all: () => db.getAll('photos'),
    async ofRecord(recordId) {
      const found = mine(await db.getAllFromIndex('photos', 'record', recordId));
      return found.sort((a, b) => a.created_at.localeCompare(b.created_at));
    },
    async unsent() {
      const all = mine(await db.getAll('photos'));
      return all.filter((p) => p.state !== PHOTO_STATE.SENT && p.state !== PHOTO_STATE.REFUSED)
        .sort((a, b) => a.created_at.localeCompare(b.created_at));
    },
    update,
    sent: (id) => update(id, { state: PHOTO_STATE.SENT, data: null, detail: null }),
  };
}

/** Send waiting photos one at a time, single-flight (rules 1, 2); `upload` is api.putPhoto. */
export function createPhotoSender({
  photos, outbox, upload, backoff = createBackoff(), timers = globalThis, onChange = () => {},
}) {
  let running = null;
  let again = false;
  let retryTimer = null;

  async function recordsInOutbox() {
    return new Set((await outbox.all()).flatMap(recordKeys));
  }

  async function setState(photo, state, detail = null) {
    await photos.update(photo.id, { state, detail });
    onChange(photo);
  }

  /** Try each unsent photo once; return a wait (ms) to retry after, or null. */
  async function round() {
    const held = await recordsInOutbox();
    for (const photo of await photos.unsent()) {
      if (held.has(`${photo.record_type}:${photo.record_id}`)) {
        if (photo.state !== PHOTO_STATE.WAITING) await setState(photo, PHOTO_STATE.WAITING);
        continue;
      }
      await setState(photo, PHOTO_STATE.SENDING);
      try {
        await upload(photo);
      } catch (error) {
        if (error instanceof ApiError && FINAL_REFUSALS.has(error.status)) {
          await setState(photo, PHOTO_STATE.REFUSED, error.status);
          continue;
        }
        await setState(photo, PHOTO_STATE.RETRYING, error.message);
        return Math.min(error.retryAfterMs ?? 0, MAX_BACKOFF_MS);
      }
      await photos.sent(photo.id);
      onChange(photo);
      backoff.reset();
    }
    return null;
  }

  function scheduleRetry(serverAskedMs) {
    if (retryTimer !== null) timers.clearTimeout(retryTimer);
    const delay = Math.max(backoff.next(), serverAskedMs);
    retryTimer = timers.setTimeout(() => {
      retryTimer = null;
      return send().catch(() => {});
    }, delay);
  }

  async function loop() {
    do {
      again = false;
      const retryAfter = await round();
      if (retryAfter !== null) {
        scheduleRetry(retryAfter);
        return;
      }
    } while (again);
  }

  function send() {
    if (running) {
      again = true;
      return running;
    }
    if (retryTimer !== null) {
      timers.clearTimeout(retryTimer);
      retryTimer = null;
    }
    running = loop().finally(() => {
      running = null;
    });
    return running;
  }

  return { send };
}
