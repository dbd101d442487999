/**
 * Record and changeset ids: time-ordered ones the device makes (UUID version 7),
 * and name-based ones the server also derives (UUID version 5, as Python's
 * uuid.uuid5), so that devices meet instead of duplicating: a household's order
 * in a round is uuid5(round id, household id) (sync-contract.md, "Records";
 * sync/supplies.py order_id). WebCrypto's SHA-1 does the hashing; it needs a
 * secure context (https or localhost).
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

const hex = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');

/** Return the UUID version 5 of `name` (text, UTF-8) in the namespace UUID `namespace`. */
export async function uuid5(namespace, name, subtle = globalThis.crypto.subtle) {
  const space = namespace.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(space)) throw new RangeError(`not a UUID: ${namespace}`);
  const nameBytes = new TextEncoder().encode(name);
  const input = new Uint8Array(16 + nameBytes.length);
  input.set(space.match(/../g).map((pair) => parseInt(pair, 16)), 0);
  input.set(nameBytes, 16);
  const digest = new Uint8Array(await subtle.digest('SHA-1', input)).slice(0, 16);
  digest[6] = (digest[6] & 0x0f) | 0x50; // version 5
  digest[8] = (digest[8] & 0x3f) | 0x80; // the RFC's variant
  const text = hex(digest);
  return `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20)}`;
}
