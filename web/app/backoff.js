/**
 * Compute retry delays: exponential backoff with jitter.
 *
 * The n-th retry (from 0) waits a random time in [c/2, c] with
 * c = min(MAX, BASE * 2^n): the lower half keeps delays growing, the random
 * half keeps a compound's worth of phones that regain signal at once from
 * retrying in lock-step. `random` is injectable for tests.
 */
export const BASE_BACKOFF_MS = 1000;
export const MAX_BACKOFF_MS = 5 * 60 * 1000;

export function createBackoff({
  baseMs = BASE_BACKOFF_MS,
  maxMs = MAX_BACKOFF_MS,
  random = Math.random,
} = {}) {
  let attempt = 0;
  return {
    /** Return the delay before the next retry and count the attempt. */
    next() {
      const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
      attempt = Math.min(attempt + 1, 52); // keep 2 ** attempt finite
      return Math.round(ceiling / 2 + (random() * ceiling) / 2);
    },
    /** Forget past failures after a success. */
    reset() {
      attempt = 0;
    },
    get attempts() {
      return attempt;
    },
  };
}
