// The gate device's decision and pass check against the shared tables:
// gate_decisions.json (the policy, tier × pass kind × direction × time) and
// pass_vectors.json (tokens the server signed; the problems to find), both
// checked in pytest against the Python reference and an independent verifier.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { exitsOn, gateEventChange, judgeRecord, judgeToken, policyOf, warnings } from '../../web/app/gate/check.js';
import { decide, localDay } from '../../web/app/gate/decide.js';
import { countsByHour } from '../../web/app/gate/log.js';
import { policyChange, ruleKey } from '../../web/app/gate/policy.js';
import { dateInput } from '../../web/app/gate/print.js';
import { checkPass } from '../../web/app/gate/verify.js';
import { DECLARATIONS, fixture } from './helpers.js';

const DECISIONS = fixture('gate_decisions.json');
const VECTORS = fixture('pass_vectors.json');

test('the device decides every case of the table as the reference does', () => {
  assert.ok(DECISIONS.length > 40);
  for (const row of DECISIONS) {
    assert.deepEqual(decide(row.policy, row.scan), row.expected, row.name);
  }
});

test('each pass vector has the problem it names, checked with WebCrypto', async () => {
  const revoked = new Set(VECTORS.revoked);
  const context = {
    keys: VECTORS.keys,
    compoundId: VECTORS.compound_id,
    now: new Date(VECTORS.now),
    isRevoked: (pid) => revoked.has(pid),
  };
  for (const { name, token, problem } of VECTORS.cases) {
    const checked = await checkPass(token, context);
    assert.equal(checked.problem, problem, name);
    if (problem === null) assert.equal(checked.claims.cid, VECTORS.compound_id, name);
  }
});

test('a good pass shows the guard its initials and short address only', async () => {
  const good = VECTORS.cases.find((c) => c.problem === null);
  const { claims } = await checkPass(good.token, {
    keys: VECTORS.keys, compoundId: VECTORS.compound_id, now: new Date(VECTORS.now), isRevoked: () => false,
  });
  assert.deepEqual(Object.keys(claims).sort(), ['addr', 'cid', 'exp', 'ini', 'kind', 'nbf', 'pid']);
});

test('the quota day is the local day of the policy', () => {
  assert.equal(localDay('2022-04-01T16:30:00Z', 480), '2022-04-02');
  assert.equal(localDay('2022-04-01T15:30:00Z', 480), '2022-04-01');
});

const POLICY = DECISIONS.find((row) => row.name === 'precaution resident out').policy;
const COMPOUND = { id: VECTORS.compound_id, fields: { tier: 'precaution', pass_keys: VECTORS.keys } };
const GOOD = VECTORS.cases.find((c) => c.problem === null).token;

function contextFor(overrides = {}) {
  return {
    compound: COMPOUND,
    policy: { fields: POLICY, version: 12 },
    direction: 'out',
    now: new Date('2022-04-02T04:00:00Z'), // local noon, inside the window
    isRevoked: () => false,
    exitsToday: async () => 0,
    ...overrides,
  };
}

test('a scanned pass is checked, then decided under the policy, naming its version', async () => {
  const judged = await judgeToken(GOOD, contextFor());
  assert.deepEqual([judged.decision, judged.reason, judged.policyVersion], ['allow', 'allowed', 12]);
  const used = await judgeToken(GOOD, contextFor({ exitsToday: async () => 1 }));
  assert.deepEqual([used.decision, used.reason], ['deny', 'quota_used']);
  const sealed = await judgeToken(GOOD, contextFor({ policy: { fields: { ...POLICY, tier: 'sealed' }, version: 13 } }));
  assert.deepEqual([sealed.decision, sealed.reason], ['deny', 'tier_forbids']);
});

test('before a policy has synced everything is denied, closed by default', async () => {
  const judged = await judgeToken(GOOD, contextFor({ policy: policyOf(COMPOUND, null) }));
  assert.deepEqual([judged.decision, judged.reason, judged.policyVersion], ['deny', 'no_rule', 0]);
});

test('a pass found by address is judged by its synced record', async () => {
  const record = {
    id: '5a0c7e1e-0009-4000-8000-000000000009',
    fields: { compound_id: COMPOUND.id, kind: 'resident', initials: 'Z.W.', address: '12-3-502', revoked: false,
      valid_from: '2022-04-01T00:00:00Z', valid_until: '2022-04-09T00:00:00Z' },
  };
  assert.equal((await judgeRecord(record, contextFor())).decision, 'allow');
  const revoked = { ...record, fields: { ...record.fields, revoked: true } };
  assert.equal((await judgeRecord(revoked, contextFor())).reason, 'revoked');
  assert.equal((await judgeRecord(record, contextFor({ now: new Date('2022-04-09T00:00:00Z') }))).reason, 'expired');
});

test('exits are counted per pass on the local day, allowed exits only', () => {
  const event = (pid, direction, decision, at) => ({ fields: { pass_id: pid, direction, decision, scanned_at: at } });
  const events = [
    event('p1', 'out', 'allow', '2022-04-01T17:00:00Z'), // 01:00 local on the 2nd
    event('p1', 'out', 'allow', '2022-04-01T15:00:00Z'), // 23:00 local on the 1st
    event('p1', 'out', 'deny', '2022-04-02T03:00:00Z'),
    event('p1', 'in', 'allow', '2022-04-02T03:00:00Z'),
    event('p2', 'out', 'allow', '2022-04-02T03:00:00Z'),
  ];
  assert.equal(exitsOn(events, 'p1', '2022-04-02', 480), 1);
});

test('a stale policy and a wrong clock warn', () => {
  const now = new Date('2022-04-02T12:00:00Z');
  assert.deepEqual(warnings({ lastSyncAt: '2022-04-02T11:00:00Z', now, clockOffsetMs: 1000 }), []);
  assert.deepEqual(warnings({ lastSyncAt: '2022-04-01T11:59:00Z', now, clockOffsetMs: null }), ['stale_policy']);
  assert.deepEqual(warnings({ lastSyncAt: null, now, clockOffsetMs: -10 * 60_000 }), ['stale_policy', 'clock_skew']);
});

test('the gate event keeps only well-formed claims of a broken pass', () => {
  const change = gateEventChange({
    id: 'e1', compoundId: COMPOUND.id, post: 'West', direction: 'in', now: new Date('2022-04-02T04:00:00Z'),
    judgement: { decision: 'deny', reason: 'bad_signature', policyVersion: 3, claims: { pid: 'not-an-id', kind: 'vip' } },
    temperature: 37.9, kinds: ['resident', 'medical_exit', 'worker'],
  });
  assert.deepEqual(change.fields, {
    compound_id: COMPOUND.id, post: 'West', direction: 'in', decision: 'deny', reason: 'bad_signature',
    policy_version: 3, scanned_at: '2022-04-02T04:00:00.000Z', temperature_c: 37.9,
  });
});

test('the log counts in and out per post and local hour, today only', () => {
  const event = (post, direction, at) => ({ fields: { post, direction, scanned_at: at } });
  const counts = countsByHour([
    event('West', 'in', '2022-04-02T01:10:00Z'), // 09:10 local
    event('West', 'out', '2022-04-02T01:50:00Z'),
    event('West', 'out', '2022-04-02T02:05:00Z'), // 10:05
    event('East', 'in', '2022-04-02T01:00:00Z'),
    event('West', 'in', '2022-04-01T01:00:00Z'), // yesterday
  ], '2022-04-02', 480);
  assert.deepEqual(Object.fromEntries(counts.get('West')), { 9: { in: 1, out: 1 }, 10: { in: 0, out: 1 } });
  assert.deepEqual(Object.fromEntries(counts.get('East')), { 9: { in: 1, out: 0 } });
});

test('a policy edit is one update of the changed fields, checked against the declarations', () => {
  const declarations = DECLARATIONS;
  const rules = [
    { tier: 'sealed', kind: 'resident', direction: 'out', outcome: 'deny' },
    { tier: 'precaution', kind: 'resident', direction: 'out', outcome: 'window' },
  ];
  const policy = {
    id: 'p1', version: 7,
    fields: { window_opens: '08:00', window_closes: '18:00', exits_per_day: 1, fever_threshold_c: 37.3, rules },
  };
  const same = { window_opens: '08:00', window_closes: '18:00', exits_per_day: '1', fever_threshold_c: '37.3', rules: {} };
  assert.deepEqual(policyChange(declarations, policy, same), { change: null });

  const edited = { ...same, window_closes: '17:30', exits_per_day: '', rules: { [ruleKey(rules[1])]: 'allow' } };
  const { change } = policyChange(declarations, policy, edited);
  assert.deepEqual(change, {
    type: 'gate_policy', id: 'p1', op: 'update', base_version: 7,
    fields: { window_closes: '17:30', exits_per_day: null, rules: [rules[0], { ...rules[1], outcome: 'allow' }] },
  });

  for (const [name, raw, key] of [
    ['window_opens', '', 'invalid.required'], ['window_opens', '25:00', 'invalid.time'],
    ['exits_per_day', '99', 'invalid.range'], ['fever_threshold_c', 'warm', 'invalid.range'],
  ]) {
    const { problem } = policyChange(declarations, policy, { ...same, [name]: raw });
    assert.equal(problem?.field, name, `${name}=${raw}`);
    assert.equal(problem.key, key, `${name}=${raw}`);
  }
});

test('a printed pass ends by default 14 days after the neighbourhood\'s today, also in its first hours', () => {
  // 00:30 on 2 December in Shanghai, still 1 December in UTC; 23:30 on 1 December there.
  assert.equal(dateInput(14, Date.parse('2026-12-01T16:30:00Z')), '2026-12-16');
  assert.equal(dateInput(14, Date.parse('2026-12-01T15:30:00Z')), '2026-12-15');
  assert.equal(dateInput(14, Date.parse('2026-12-01T23:59:59Z')), '2026-12-16');
});
