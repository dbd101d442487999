/**
 * Name-based ids: UUID version 5 (RFC 9562, section 5.5), as Python's uuid.uuid5.
 *
 * The server fixes some ids by name so that devices meet instead of
 * duplicating: a household's order in a round is uuid5(round id, household
 * id) (sync-contract.md, "Records"; sync/supplies.py order_id). WebCrypto's
 * SHA-1 does the hashing; it needs a secure context (https or localhost).
 */

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
