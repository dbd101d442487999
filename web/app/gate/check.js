/**
 * Judge one scan on the guard's device: the pass checks (verify.js), then the
 * compound's policy (decide.js), and the gate_event that records it.
 *
 * Pure but for the lookups it is given, so node tests and the benchmark call
 * it as the screen does.
 */
import { decide, localDay, NEIGHBOURHOOD_OFFSET_MINUTES } from './decide.js';
import { checkPass } from './verify.js';

/** A policy older than this (since the last clean sync) warns before deciding. */
export const STALE_POLICY_MS = 24 * 60 * 60 * 1000;
/** A device clock further than this from the server's warns before deciding. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

/**
 * The policy a compound's decisions run under: its gate_policy record, or,
 * before one has synced, the compound's tier with no rules (everything is
 * denied `no_rule`: closed by default).
 */
export function policyOf(compound, policyRecord) {
  if (policyRecord && !policyRecord.deleted) return { fields: policyRecord.fields, version: policyRecord.version ?? 0 };
  return { fields: { tier: compound?.fields?.tier, rules: [], utc_offset_minutes: NEIGHBOURHOOD_OFFSET_MINUTES }, version: 0 };
}

/**
 * Check a scanned token and decide.
 *
 * @param {string} token the QR's text.
 * @param {object} context {compound, policy: {fields, version}, direction, now,
 *   isRevoked(pid), exitsToday(pid, day)}.
 * @returns {Promise<{decision, reason, claims, policyVersion}>}
 */
export async function judgeToken(token, context) {
  const { compound, policy, direction, now } = context;
  const { problem, claims } = await checkPass(token, {
    keys: compound.fields.pass_keys ?? [],
    compoundId: compound.id,
    now,
    isRevoked: context.isRevoked,
  });
  return judged(claims, problem, context, policy, direction, now);
}

/**
 * Decide for a pass found by address (a damaged QR): the synced record stands
 * for the signature, its fields for the claims.
 */
export async function judgeRecord(record, context) {
  const { policy, direction, now } = context;
  const { fields } = record;
  const seconds = now.getTime();
  let problem = null;
  if (fields.revoked) problem = 'revoked';
  else if (fields.valid_from && seconds < Date.parse(fields.valid_from)) problem = 'not_yet_valid';
  else if (seconds >= Date.parse(fields.valid_until)) problem = 'expired';
  const claims = { pid: record.id, cid: fields.compound_id, kind: fields.kind, ini: fields.initials, addr: fields.address };
  return judged(claims, problem, context, policy, direction, now);
}

async function judged(claims, problem, context, policy, direction, now) {
  const day = localDay(now, policy.fields.utc_offset_minutes ?? 0);
  const exits = claims && !problem && direction === 'out' ? await context.exitsToday(claims.pid, day) : 0;
  const { decision, reason } = decide(policy.fields, { kind: claims?.kind, problem, direction, at: now, exits_today: exits });
  return { decision, reason, claims, policyVersion: policy.version };
}

/** Count the exits allowed today on a pass among gate events (local day under `offset`). */
export function exitsOn(events, pid, day, offset) {
  return events.filter((event) => event.fields.pass_id === pid && event.fields.direction === 'out'
    && event.fields.decision === 'allow' && localDay(event.fields.scanned_at, offset) === day).length;
}

/** Return the warnings to show before deciding: a stale policy, a wrong clock. */
export function warnings({ lastSyncAt, now, clockOffsetMs }) {
  const out = [];
  if (!lastSyncAt || now.getTime() - Date.parse(lastSyncAt) > STALE_POLICY_MS) out.push('stale_policy');
  if (clockOffsetMs !== null && clockOffsetMs !== undefined && Math.abs(clockOffsetMs) > CLOCK_SKEW_MS) out.push('clock_skew');
  return out;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Return the create of the gate_event recording a decision. What a forged
 * or broken pass claims is kept only where it is a well-formed value of the
 * declared field: the event itself must always be accepted.
 */
export function gateEventChange({ id, compoundId, post, direction, judgement, temperature, now, kinds }) {
  const fields = {
    compound_id: compoundId,
    post,
    direction,
    decision: judgement.decision,
    reason: judgement.reason,
    policy_version: judgement.policyVersion,
    scanned_at: now.toISOString(),
  };
  if (UUID.test(judgement.claims?.pid)) fields.pass_id = judgement.claims.pid;
  if (kinds.includes(judgement.claims?.kind)) fields.pass_kind = judgement.claims.kind;
  if (temperature !== null && temperature !== undefined) fields.temperature_c = temperature;
  return { type: 'gate_event', id, op: 'create', base_version: 0, fields };
}
