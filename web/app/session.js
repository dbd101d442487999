/**
 * Keep who is signed in on this device: the long-lived device token and the
 * user, both in IndexedDB (`meta`), so the app opens signed in offline.
 *
 * The outbox belongs to whoever made it. Signing in as someone else while it
 * holds changesets is refused (OutboxOwnerError) before any request is made:
 * their edits must not be pushed under another person's name. Signing out
 * keeps the outbox; the same user signing in again syncs it.
 */
import { clearSyncedData, deleteMeta, getCursor, getMeta, setMeta } from './db.js';
import { detectLostChanges, readMarks } from './wipe.js';

export class OutboxOwnerError extends Error {
  constructor(owner, count) {
    super('outbox belongs to another user');
    this.name = 'OutboxOwnerError';
    this.owner = owner;
    this.count = count;
  }
}

/** Name this device for the server's token list ("Android · Chrome"). */
export function deviceName(userAgent = globalThis.navigator?.userAgent ?? '') {
  const os = /Android/.test(userAgent) ? 'Android'
    : /iPhone|iPad/.test(userAgent) ? 'iOS'
    : /Windows/.test(userAgent) ? 'Windows'
    : /Mac OS X/.test(userAgent) ? 'macOS'
    : /Linux/.test(userAgent) ? 'Linux' : 'device';
  const browser = /Edg\//.test(userAgent) ? 'Edge'
    : /Firefox\//.test(userAgent) ? 'Firefox'
    : /Chrome\//.test(userAgent) ? 'Chrome'
    : /Safari\//.test(userAgent) ? 'Safari' : 'browser';
  return `Weiguang PWA · ${os} · ${browser}`;
}

export function createSession({ db, api, outbox, storage = null }) {
  return {
    async token() {
      return getMeta(db, 'token', null);
    },

    async user() {
      return getMeta(db, 'user', null);
    },

    /**
     * Sign in and keep the token. Returns {user, lost} where `lost` is
     * {count, at} when this device's store was wiped while it held changes
     * of this user that had not reached the server (see wipe.js), else null.
     */
    async signIn(username, password) {
      // Read side by side, as the two writes below are made: on a throttled phone each
      // store call waited its turn on the busy page, ~25 ms apiece before sign-in (issue 16).
      const [previous, queued, lastAccepted, cursor] = await Promise.all([
        getMeta(db, 'user', null), outbox.count(), getMeta(db, 'lastAcceptedChangeset', null), getCursor(db),
      ]);
      if (previous && previous.username !== username && queued > 0) {
        throw new OutboxOwnerError(previous.username, queued);
      }
      const local = { lastAccepted, cursor, queued };
      const response = await api.login(username, password, deviceName());
      if (previous && previous.id !== response.user.id) {
        // Another person's scope: their records must not linger here.
        await clearSyncedData(db);
        await deleteMeta(db, 'lastAcceptedChangeset');
      }
      await Promise.all([setMeta(db, 'token', response.token), setMeta(db, 'user', response.user)]);
      return { user: response.user, lost: detectLostChanges(readMarks(storage)[String(response.user.id)], local) };
    },

    /**
     * Revoke the token (best effort: offline, it is still forgotten here)
     * and forget it. The outbox and the user's name stay.
     */
    async signOut() {
      try {
        await api.logout();
      } catch {
        // Offline or already revoked: the device forgets the token anyway.
      }
      await deleteMeta(db, 'token');
    },

    /** Forget a token the server refused (401), keeping everything else. */
    async dropToken() {
      await deleteMeta(db, 'token');
    },
  };
}
