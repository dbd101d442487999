/**
 * Notice when this device's store was wiped while the server still
 * remembers changesets from it.
 *
 * HOOK (to be settled with the server): after login the server is expected
 * to say which changeset it last accepted from this user/device, as
 * `device.last_changeset_id` (preferred: per device token lineage) or
 * `user.last_changeset_id`, with an optional `..._at` time. If the server
 * remembers one and this store has no record of any accepted changeset and
 * no cursor, the store was cleared (or this is a new phone): edits that had
 * not synced before the wipe are gone unless an export file exists.
 */

/** Return {id, at} of the server's last accepted changeset, or null. */
export function serverLastChangeset(loginResponse) {
  const device = loginResponse?.device;
  const user = loginResponse?.user;
  const id = device?.last_changeset_id ?? user?.last_changeset_id ?? null;
  if (!id) return null;
  return { id, at: device?.last_changeset_at ?? user?.last_changeset_at ?? null };
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
