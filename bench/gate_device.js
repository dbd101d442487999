// The gate benchmark's page functions (bench/gate.py reads them): run in the
// demo app's origin by Playwright, with the app's own modules.

// Fill a device store of its own with passes, revocations, a policy and events.
export const fill =
async ({compoundId, keys, token, pid, revokedPid, passes, revoked, events, rules}) => {
  const dbModule = await import('/app/db.js');
  const {newId} = await import('/app/ids.js'); // the ids a device gives what it makes
  indexedDB.deleteDatabase('weiguang-bench-gate');
  const db = await dbModule.openStore('weiguang-bench-gate');
  const now = new Date();
  const until = new Date(now.getTime() + 7 * 86400000).toISOString();
  const records = [
    {type: 'compound', id: compoundId, version: 1, fields: {name: 'Bench', tier: 'precaution', pass_keys: keys}},
    {type: 'gate_policy', id: newId(), version: 2, fields: {
      compound_id: compoundId, tier: 'precaution', rules, window_opens: '00:00',
      window_closes: '23:59', exits_per_day: null, utc_offset_minutes: 480, fever_threshold_c: 37.3}},
  ];
  for (let i = 0; i < passes; i += 1) {
    const id = i === 0 ? pid : i === 1 ? revokedPid : newId();
    records.push({type: 'gate_pass', id, version: 10 + i, fields: {
      compound_id: compoundId, resident_id: newId(), kind: 'resident',
      valid_until: until, revoked: i === 1 || (i > 1 && i <= revoked), token,
      initials: 'Z.W.', address: `${i % 40}-${i % 3}-${i % 600}`}});
  }
  for (let i = 0; i < events; i += 1) {
    records.push({type: 'gate_event', id: newId(), version: 100000 + i, fields: {
      compound_id: compoundId, post: 'West', direction: i % 2 ? 'in' : 'out', decision: 'allow',
      pass_id: i % 10 ? newId() : pid, policy_version: 2,
      scanned_at: new Date(now.getTime() - i * 60000).toISOString()}});
  }
  for (let start = 0; start < records.length; start += 2000) {
    await dbModule.storeRecords(db, records.slice(start, start + 2000));
  }
  db.close();
  return records.length;
};

// Time the gate's judgement of a good and a revoked token, and one bare verify.
export const time =
async ({compoundId, token, revokedToken, runs, warmUps}) => {
  const dbModule = await import('/app/db.js');
  const check = await import('/app/gate/check.js');
  const db = await dbModule.openStore('weiguang-bench-gate');
  const compound = await dbModule.getRecord(db, 'compound', compoundId);
  const [policyRecord] = await dbModule.recordsOfType(db, 'gate_policy', {compound_id: compoundId});
  const policy = check.policyOf(compound, policyRecord);
  const context = () => ({
    compound, policy, direction: 'out', now: new Date(),
    isRevoked: async (id) => (await dbModule.getRecord(db, 'gate_pass', id))?.fields?.revoked === true,
    exitsToday: async (id, day) => check.exitsOn(
      await dbModule.recordsOfType(db, 'gate_event', {compound_id: compoundId}), id, day, 480),
  });
  const jwk = compound.fields.pass_keys[0];
  const key = await crypto.subtle.importKey('jwk', {kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, ext: true},
    {name: 'ECDSA', namedCurve: 'P-256'}, false, ['verify']);
  const [head, body, sig] = token.split('.');
  const raw = Uint8Array.from(atob(sig.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const signed = new TextEncoder().encode(`${head}.${body}`);
  const timings = {good: [], revoked: [], floor: []};
  const outcomes = new Set();
  for (let run = 0; run < runs + warmUps; run += 1) {
    let t0 = performance.now();
    const good = await check.judgeToken(token, context());
    const tGood = performance.now() - t0;
    t0 = performance.now();
    const bad = await check.judgeToken(revokedToken, context());
    const tBad = performance.now() - t0;
    t0 = performance.now();
    await crypto.subtle.verify({name: 'ECDSA', hash: 'SHA-256'}, key, raw, signed);
    const tFloor = performance.now() - t0;
    outcomes.add(`${good.decision}/${good.reason} ${bad.decision}/${bad.reason}`);
    if (run >= warmUps) {
      timings.good.push(tGood);
      timings.revoked.push(tBad);
      timings.floor.push(tFloor);
    }
  }
  return {timings, outcomes: [...outcomes]};
};
