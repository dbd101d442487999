// The gate device's decision and pass check against the shared tables:
// gate_decisions.json (the policy, tier × pass kind × direction × time) and
// pass_vectors.json (tokens the server signed; the problems to find), both
// checked in pytest against the Python reference and an independent verifier.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { decide, localDay } from '../../web/app/gate/decide.js';
import { checkPass } from '../../web/app/gate/verify.js';
import { fixture } from './helpers.js';

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
