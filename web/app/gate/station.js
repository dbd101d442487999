/**
 * What this gate device remembers of itself: the post it stands at, and how
 * far its clock is from the server's (measured whenever it is online).
 */

const POST_KEY = 'weiguang.gate.post';
const CLOCK_KEY = 'weiguang.gate.clock-offset-ms';
/** The post a new device starts at; the guard types theirs once. */
const DEFAULT_POST = '1';

function storage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

export function postName() {
  return storage()?.getItem(POST_KEY)?.trim() || DEFAULT_POST;
}

export function rememberPost(name) {
  if (name.trim()) storage()?.setItem(POST_KEY, name.trim().slice(0, 60));
}

/** Return the server's clock minus this device's, in ms, as last measured (null: never). */
export function readClockOffset() {
  const kept = storage()?.getItem(CLOCK_KEY);
  return kept === null || kept === undefined ? null : Number(kept);
}

/**
 * Compare this device's clock with the server's `Date` header (RFC 9110,
 * whole seconds), halfway through the round trip. Offline, the last
 * measurement stands.
 */
export async function measureClock({ fetcher = globalThis.fetch, now = () => Date.now() } = {}) {
  if (!navigator.onLine) return;
  try {
    const sent = now();
    const response = await fetcher('/api/v1/health', { cache: 'no-store' });
    const received = now();
    const server = Date.parse(response.headers.get('Date') ?? '');
    if (Number.isFinite(server)) storage()?.setItem(CLOCK_KEY, String(server - (sent + received) / 2));
  } catch {
    // The network failed between the check and the call: keep the last measurement.
  }
}
