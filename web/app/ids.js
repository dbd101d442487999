/** Name-based record ids the server also derives (UUID version 5). */

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
