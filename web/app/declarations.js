/**
 * Read the server's published record declarations (`GET /api/v1/declarations`).
 *
 * The server enforces every rule; the app only offers what will pass. So the
 * moves a role may make, the inputs a move requires and the limits of each
 * field come from this document, never from rules retyped here. The
 * semantics are pinned in the declarations format shared with the server
 * (docs/sync.md "State machines"), judged in this order:
 *
 * 1. a role may ask only for states it can ever put a record in (the `to`
 *    of its transitions, and `initial` if it may create): else `forbidden`;
 * 2. a claim of a held record: `already_claimed` if another user holds it,
 *    a no-op for the holder;
 * 3. a role in `holder_roles` acting on a record it does not hold:
 *    `already_claimed` in a held state, `stale_transition` in any other;
 * 4. `t == s` is a no-op;
 * 5. a transition `s -> t` naming the role applies (finals have none);
 * 6. anything else is `stale_transition`.
 *
 * Every field in a transition's `requires` must be non-empty after the move.
 *
 * Everything here except loadDeclarations() is pure.
 */
import { getMeta, setMeta } from './db.js';

const META_KEY = 'declarations';

/**
 * Fetch the document and keep it; offline, use the kept one.
 *
 * Returns the document, or null when the device never received one.
 */
export async function loadDeclarations({ db, api }) {
  try {
    const document = await api.declarations();
    if (document?.types) {
      await setMeta(db, META_KEY, document);
      return document;
    }
  } catch {
    // Offline or an older server: the kept copy still describes its rules.
  }
  return getMeta(db, META_KEY, null);
}

/**
 * Return the message key for a screen drawn before the device has the rules: they are on
 * their way (`declarationsLoading`), or the device must connect once to get them.
 */
export function rulesAbsent({ declarationsLoading }) {
  return declarationsLoading ? 'task.rules_loading' : 'task.rules_missing';
}

/** Return the declaration of `type`, or null if the document lacks it. */
export function typeOf(declarations, type) {
  return declarations?.types?.[type] ?? null;
}

/** Return the state machine of `type`, or null. */
export function machineOf(declarations, type) {
  return typeOf(declarations, type)?.state_machine ?? null;
}

const sameUser = (a, b) => a != null && b != null && String(a) === String(b);

/** Return whether `role` may change `field` of a record of `type` at all. */
export function mayUpdateField(declarations, type, role, field) {
  const permissions = typeOf(declarations, type)?.permissions;
  if (!permissions?.update?.includes(role)) return false;
  const only = permissions.update_fields?.[role];
  return !only || only.includes(field);
}

/**
 * Judge moving `record` to state `to` as `user`, by the published rules.
 *
 * Returns `{outcome: 'applied', transition}`, `{outcome: 'noop'}` or
 * `{outcome: <rejection code>}` (`forbidden`, `stale_transition`,
 * `already_claimed`), the same answer the server's engine gives.
 */
export function judgeMove(declarations, type, record, user, to) {
  const machine = machineOf(declarations, type);
  if (!machine || !mayUpdateField(declarations, type, user.role, machine.field)) return { outcome: 'forbidden' };
  const mine = machine.transitions.filter((edge) => edge.roles.includes(user.role));
  const reachable = new Set(mine.map((edge) => edge.to));
  if (mayCreate(declarations, type, user.role)) machine.initial?.forEach((state) => reachable.add(state));
  if (!reachable.has(to)) return { outcome: 'forbidden' };
  const state = record.fields[machine.field];
  const held = machine.held?.includes(state) ?? false;
  const holds = machine.holder ? sameUser(record.fields[machine.holder], user.id) : false;
  if (held && mine.some((edge) => edge.claim && edge.to === to)) return { outcome: holds ? 'noop' : 'already_claimed' };
  if (machine.holder_roles?.includes(user.role) && !holds) {
    if (held) return { outcome: 'already_claimed' };
    if (!mine.some((edge) => edge.claim && edge.to === to)) return { outcome: 'stale_transition' };
  }
  if (to === state) return { outcome: 'noop' };
  const transition = mine.find((edge) => edge.from === state && edge.to === to);
  return transition ? { outcome: 'applied', transition } : { outcome: 'stale_transition' };
}

/**
 * Return the transitions `user` can make on `record`, in declared order.
 *
 * Each is `{action, from, to, requires, claim?}`; one per action.
 */
export function allowedMoves(declarations, type, record, user) {
  const machine = machineOf(declarations, type);
  if (!machine || !record?.fields) return [];
  const moves = [];
  for (const to of new Set(machine.transitions.map((edge) => edge.to))) {
    const verdict = judgeMove(declarations, type, record, user, to);
    if (verdict.outcome === 'applied' && !moves.some((move) => move.action === verdict.transition.action)) {
      moves.push(verdict.transition);
    }
  }
  return moves;
}

/**
 * Return whether `user` may hand a held or claimable record to someone else
 * (a role outside `holder_roles` that may change the holder field).
 */
export function mayAssign(declarations, type, user) {
  const machine = machineOf(declarations, type);
  if (!machine?.holder || machine.holder_roles?.includes(user.role)) return false;
  return mayUpdateField(declarations, type, user.role, machine.holder);
}

/** Return whether `role` may create records of `type`. */
export function mayCreate(declarations, type, role) {
  return typeOf(declarations, type)?.permissions?.create?.includes(role) ?? false;
}

/** Return the JSON Schema of one field, or null. */
export function fieldSchema(declarations, type, field) {
  return typeOf(declarations, type)?.fields?.[field] ?? null;
}

/** Return the enum values a field declares (empty if none). */
export function enumValues(declarations, type, field) {
  const schema = fieldSchema(declarations, type, field);
  return schema?.enum ?? schema?.items?.enum ?? [];
}

const isEmpty = (value) => value === null || value === undefined || (typeof value === 'string' && !value.trim());
const allows = (schema, kind) => [schema.type].flat().includes(kind);

/**
 * Check one value against its declared field.
 *
 * Returns null when valid, else `{key, params}` naming a message:
 * `invalid.required`, `invalid.too_long` ({max}), `invalid.too_short` ({min}),
 * `invalid.range` ({min}, {max}), `invalid.choice`.
 */
export function checkValue(declarations, type, field, value, { required = false } = {}) {
  const schema = fieldSchema(declarations, type, field);
  if (isEmpty(value)) {
    const needed = required || typeOf(declarations, type)?.required?.includes(field);
    return needed ? { key: 'invalid.required', params: {} } : null;
  }
  if (!schema) return null;
  if (typeof value === 'string' && allows(schema, 'string')) {
    const length = [...value.trim()].length;
    if (schema.maxLength != null && length > schema.maxLength) return { key: 'invalid.too_long', params: { max: schema.maxLength } };
    if (schema.minLength != null && length < schema.minLength) return { key: 'invalid.too_short', params: { min: schema.minLength } };
    if (schema.enum && !schema.enum.includes(value)) return { key: 'invalid.choice', params: {} };
  }
  if (typeof value === 'number' && (value < (schema.minimum ?? -Infinity) || value > (schema.maximum ?? Infinity))) {
    return { key: 'invalid.range', params: { min: schema.minimum, max: schema.maximum } };
  }
  return null;
}
