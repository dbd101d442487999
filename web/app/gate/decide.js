/**
 * Decide a scan under the compound's gate policy, on the device, offline.
 *
 * The twin of sync/gate.py `decide` (the reference): both read the policy as
 * the server publishes it (the gate_policy record) and pass the same table,
 * tests/web/fixtures/gate_decisions.json. A pass with a problem is denied for
 * it; else the policy's rule for (tier, pass kind, direction) says allow,
 * deny (`tier_forbids`) or `window`: allowed from window_opens until
 * window_closes local time (UTC + utc_offset_minutes; a window that closes
 * before it opens runs over midnight) while fewer than exits_per_day exits
 * were allowed today. No rule for the case denies (`no_rule`).
 *
 * @param {object} policy the gate_policy record's fields.
 * @param {{kind: string, problem: string|null, direction: 'in'|'out', at: Date|string, exits_today?: number}} scan
 * @returns {{decision: 'allow'|'deny', reason: string}}
 */
export function decide(policy, scan) {
  if (scan.problem) return { decision: 'deny', reason: scan.problem };
  const rule = (policy.rules ?? []).find((r) =>
    r.tier === policy.tier && r.kind === scan.kind && r.direction === scan.direction);
  if (!rule) return { decision: 'deny', reason: 'no_rule' };
  if (rule.outcome !== 'window') {
    return rule.outcome === 'allow' ? { decision: 'allow', reason: 'allowed' } : { decision: 'deny', reason: 'tier_forbids' };
  }
  const minute = localMinute(new Date(scan.at), policy.utc_offset_minutes);
  const opens = minutes(policy.window_opens);
  const closes = minutes(policy.window_closes);
  const inside = opens <= closes ? opens <= minute && minute < closes : minute >= opens || minute < closes;
  if (!inside) return { decision: 'deny', reason: 'outside_window' };
  const quota = policy.exits_per_day;
  if (Number.isInteger(quota) && (scan.exits_today ?? 0) >= quota) return { decision: 'deny', reason: 'quota_used' };
  return { decision: 'allow', reason: 'allowed' };
}

/** The neighbourhood's offset from UTC (China Standard Time): a policy's before one has synced, a printed pass's. */
export const NEIGHBOURHOOD_OFFSET_MINUTES = 480;

/** Return the local day (YYYY-MM-DD) of a moment under the policy's offset: the quota's day. */
export function localDay(at, offsetMinutes) {
  return new Date(new Date(at).getTime() + offsetMinutes * 60_000).toISOString().slice(0, 10);
}

function localMinute(at, offsetMinutes) {
  const local = new Date(at.getTime() + offsetMinutes * 60_000);
  return local.getUTCHours() * 60 + local.getUTCMinutes();
}

function minutes(hhmm) {
  const [hours, mins] = hhmm.split(':').map(Number);
  return hours * 60 + mins;
}
