/**
 * Fetch the progress of the user's scope from the server (`GET /api/v1/progress`)
 * and keep the last answer, so the wall screen still shows it offline.
 *
 * The server counts (a district's coordinator cannot hold every record on
 * the device); the answer holds counts and ids only, no personal data. The
 * kept answer names the user it was for and is shown to no one else.
 */
import { NetworkError } from '../api.js';
import { getMeta, setMeta } from '../db.js';

const META_KEY = 'progress';

export function createProgressSource({ api, db }) {
  return {
    /**
     * Return `{answer, at, fresh}`: the server's answer since `since` (an ISO
     * time with a zone) and when it was fetched; offline or when the server
     * cannot answer, the last answer kept for `userId` (`fresh: false`), or null.
     *
     * @throws {ApiError} a 4xx other than a rate limit: the request itself is wrong.
     */
    async load(userId, since) {
      try {
        const answer = await api.request('GET', `/progress?since=${encodeURIComponent(since)}`);
        const kept = { userId, answer, at: new Date().toISOString() };
        await setMeta(db, META_KEY, kept);
        return { answer, at: kept.at, fresh: true };
      } catch (error) {
        const passing = error instanceof NetworkError || error.status >= 500 || error.status === 429;
        if (!passing) throw error;
        const kept = await getMeta(db, META_KEY, null);
        return kept?.userId === userId ? { answer: kept.answer, at: kept.at, fresh: false } : null;
      }
    },
  };
}
