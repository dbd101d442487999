/**
 * Tell a device whose store was wiped from a device that is simply new.
 *
 * A new phone and a wiped one both start with an empty IndexedDB, and the
 * server remembers the user's changesets either way, so that alone cannot
 * tell them apart. The device therefore keeps a small mark outside
 * IndexedDB (localStorage, `weiguang.device`): for each user who worked
 * here, how many of their changes waited on this device and since when.
 * After the store is wiped (the browser evicting IndexedDB, a "clear
 * storage" of the database) the mark is still there:
 *
 * - no mark for this user: a new device (or everything was cleared): no warning;
 * - a mark with nothing waiting: the server has all of it, nothing was lost;
 * - a mark with changes waiting and an empty store: those changes are gone.
 *
 * Pure except readMarks()/writeMark(), which take the storage to use.
 */

export const MARK_KEY = 'weiguang.device';

/** Read every user's mark: {"<user id>": {unsynced, at}}. */
export function readMarks(storage) {
  try {
    const marks = JSON.parse(storage?.getItem(MARK_KEY) ?? '{}');
    return marks && typeof marks === 'object' ? marks : {};
  } catch {
    return {};
  }
}

/** Remember how many of `userId`'s changes wait on this device (no write if unchanged). */
export function writeMark(storage, userId, unsynced, at) {
  const marks = readMarks(storage);
  const key = String(userId);
  if (marks[key]?.unsynced === unsynced) return;
  marks[key] = { unsynced, at };
  try {
    storage?.setItem(MARK_KEY, JSON.stringify(marks));
  } catch {
    // Storage full or blocked: the warning is best effort.
  }
}

/**
 * Decide whether this device lost changes of the user signing in.
 *
 * `local` is what the store holds now: {cursor, lastAccepted, queued}.
 * Returns {count, at} of the lost changes, or null.
 */
export function detectLostChanges(mark, local) {
  const storeHoldsData = (local?.cursor ?? 0) > 0 || Boolean(local?.lastAccepted?.id) || (local?.queued ?? 0) > 0;
  if (storeHoldsData || !mark || !(mark.unsynced > 0)) return null;
  return { count: mark.unsynced, at: mark.at ?? null };
}
