/**
 * Record and changeset ids: time-ordered ones the device makes (UUID version 7),
 * and name-based ones the server also derives (UUID version 5).
 */

import v7 from '../vendor/uuid/v7.js';

/**
 * Return a new id for a record or changeset this device creates: a UUID version 7
 * (RFC 9562 §5.7; canonical lowercase text), whose first 48 bits are the Unix time
 * in ms, so ids made later sort later and the server's inserts append to its
 * primary-key indexes instead of landing on a random page of each.
 */
export function newId() {
  return v7();
}

/** Return the UUID version 5 (RFC 9562 §5.5) of `name` in the UUID `namespace` (canonical text). */
export async function uuidV5(namespace, name) {
  const space = namespace.replace(/-/g, '').match(/../g).map((pair) => Number.parseInt(pair, 16));
  const bytes = new Uint8Array([...space, ...new TextEncoder().encode(name)]);
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-1', bytes)).slice(0, 16);
  hash[6] = (hash[6] & 0x0f) | 0x50; // version 5
  hash[8] = (hash[8] & 0x3f) | 0x80; // the RFC's variant
  const hex = [...hash].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
