/**
 * Check a pass token offline: a JWS compact serialization (RFC 7515) signed
 * ES256 with one of the compound's published keys (contract, "Gate passes").
 *
 * The signature is checked by WebCrypto (ECDSA P-256, SHA-256; the JWS
 * signature is the raw 64-byte r || s WebCrypto expects); nothing here is
 * hand-written cryptography. The checks run in the order of PASS_PROBLEMS in
 * sync/gate.py, the first failing one naming the problem: malformed,
 * unknown_key, bad_signature, wrong_compound, not_yet_valid, expired,
 * revoked.
 */

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNATURE = { name: 'ECDSA', hash: 'SHA-256' };
/** Imported keys by kid: importing costs more than verifying. */
const imported = new Map();

/**
 * Check `token` against the compound's keys.
 *
 * @param {string} token the QR code's content.
 * @param {{keys: object[], compoundId: string, now: Date, isRevoked: (pid: string) => Promise<boolean>|boolean}} context
 * @returns {Promise<{problem: string|null, claims: object|null}>}
 */
export async function checkPass(token, { keys, compoundId, now, isRevoked }) {
  const parts = typeof token === 'string' ? token.trim().split('.') : [];
  if (parts.length !== 3) return fail('malformed');
  let header;
  let claims;
  let signature;
  try {
    header = JSON.parse(text(parts[0]));
    claims = JSON.parse(text(parts[1]));
    signature = bytes(parts[2]);
  } catch {
    return fail('malformed');
  }
  if (header?.alg !== 'ES256' || !claims || typeof claims !== 'object' || signature.length !== 64) return fail('malformed');
  const jwk = (keys ?? []).find((key) => key.kid === header.kid);
  if (!jwk) return fail('unknown_key', claims);
  const key = await publicKey(jwk);
  const signed = new TextEncoder().encode(`${parts[0]}.${parts[1]}`);
  if (!(await crypto.subtle.verify(SIGNATURE, key, signature, signed))) return fail('bad_signature', claims);
  if (claims.cid !== compoundId) return fail('wrong_compound', claims);
  const seconds = now.getTime() / 1000;
  if (!Number.isInteger(claims.nbf) || !Number.isInteger(claims.exp)) return fail('malformed', claims);
  if (seconds < claims.nbf) return fail('not_yet_valid', claims);
  if (seconds >= claims.exp) return fail('expired', claims);
  if (await isRevoked(claims.pid)) return fail('revoked', claims);
  return { problem: null, claims };
}

async function publicKey(jwk) {
  const cacheKey = `${jwk.kid}:${jwk.x}:${jwk.y}`;
  if (!imported.has(cacheKey)) {
    const { kty, crv, x, y } = jwk;
    imported.set(cacheKey, crypto.subtle.importKey('jwk', { kty, crv, x, y, ext: true }, ALGORITHM, false, ['verify']));
  }
  return imported.get(cacheKey);
}

function fail(problem, claims = null) {
  return { problem, claims };
}

/** Decode unpadded base64url into bytes (RFC 4648 §5). */
function bytes(part) {
  if (!/^[A-Za-z0-9_-]*$/.test(part)) throw new Error('not base64url');
  const binary = atob(part.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (part.length % 4)) % 4));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

function text(part) {
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes(part));
}
