/**
 * Notice when this device's store was wiped while the server still
 * remembers changesets from this user.
 *
 * The login answer carries `sync: {last_changeset_id, last_changeset_at}`:
 * the user's last changeset the server accepted, from any device. If the
 * server remembers one and this store has no record of any accepted
 * changeset and no cursor, the store was cleared (or this is a new phone):
 * edits that had not synced before the wipe are gone unless an export file
 * exists.
 */

/** Return {id, at} of the server's last accepted changeset, or null. */
export function serverLastChangeset(loginResponse) {
  const mark = loginResponse?.sync;
  if (!mark?.last_changeset_id) return null;
  return { id: mark.last_changeset_id, at: mark.last_changeset_at ?? null };
}

/**
 * Decide whether to warn about a wiped store.
 *
 * `local` is {lastAccepted: {id}|null, cursor: number}.
 */
export function detectWipedStore(loginResponse, local) {
  const remembered = serverLastChangeset(loginResponse);
  if (!remembered) return null;
  const knowsAny = Boolean(local?.lastAccepted?.id) || (local?.cursor ?? 0) > 0;
  return knowsAny ? null : remembered;
}
