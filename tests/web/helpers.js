// Shared builders for the web unit tests: a fresh fake IndexedDB per test,
// deterministic ids and clocks, and a small in-memory sync server.
import 'fake-indexeddb/auto';

import { readFileSync } from 'node:fs';

import { openStore } from '../../web/app/db.js';
import { createOutbox } from '../../web/app/outbox.js';

export async function freshDb() {
  return openStore(`test-${crypto.randomUUID()}`);
}

/** A clock that moves one second per reading, from a fixed start. */
export function steppingClock(start = '2022-04-01T08:00:00.000Z') {
  let ms = Date.parse(start);
  return () => {
    const date = new Date(ms);
    ms += 1000;
    return date;
  };
}

export function sequentialIds(prefix = 'cs') {
  let n = 0;
  return () => `${prefix}-${++n}`;
}

export async function anOutbox(db) {
  return createOutbox(db, { now: steppingClock(), uuid: sequentialIds() });
}

export function aTask(overrides = {}) {
  const { fields, ...rest } = overrides;
  return {
    type: 'task',
    id: 't1',
    version: 5,
    deleted: false,
    ...rest,
    fields: { kind: 'delivery', title: 'Rice to 3-401', status: 'open', compound_id: 'A', priority: 2, ...fields },
  };
}

export function aClaim(overrides = {}) {
  return { type: 'task', id: 't1', op: 'update', base_version: 5, fields: { status: 'claimed' }, ...overrides };
}

/** Timers that never fire by themselves; tests call fire(). */
export function manualTimers() {
  const pending = new Map();
  let next = 1;
  return {
    setTimeout(fn, ms) {
      pending.set(next, { fn, ms });
      return next++;
    },
    clearTimeout(id) {
      pending.delete(id);
    },
    get scheduled() {
      return [...pending.values()].map((t) => t.ms);
    },
    async fireAll() {
      const due = [...pending.values()];
      pending.clear();
      for (const t of due) await t.fn();
    },
  };
}

/** Read a shared fixture (tests/web/fixtures/): the server writes them, both sides test against them. */
export function fixture(name) {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
}

/** The declarations document exactly as the server publishes it. */
export const DECLARATIONS = fixture('declarations.json');
