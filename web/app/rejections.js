/**
 * Explain a change the server refused, truthfully, and offer only what can
 * still succeed.
 *
 * Pure: the screen passes in the refused change, the server's answer
 * (`conflict: {code, detail, field?, holder?, record?}`, contract "Push
 * results") and the server's record as the device now knows it. The words
 * come from the catalogue by rejection code — never the server's English
 * `detail` — with the field, values and people named as a person reads them.
 */
import { judgeMove, machineOf } from './declarations.js';

/** Codes a retry on the latest version may cure, if the move is now possible. */
const RETRYABLE = new Set(['stale_transition', 'already_claimed']);

/**
 * Return the message of one refused change: {key, params}.
 *
 * `params` hold raw values for the screen to name: `field` (a field name),
 * `current` and `target` (states), `holder` (a user id).
 */
export function reasonFor(declarations, change, conflict, serverRecord) {
  const code = conflict?.code ?? 'unknown';
  const machine = machineOf(declarations, change.type);
  const stateField = machine?.field;
  switch (code) {
    case 'stale_transition': {
      const current = (conflict.record ?? serverRecord)?.fields?.[stateField];
      const target = change.fields?.[stateField];
      return current && target
        ? { key: 'reject.stale_transition', params: { type: change.type, field: stateField, current, target } }
        : { key: 'reject.stale_transition_unknown', params: {} };
    }
    case 'already_claimed':
      return conflict.holder == null
        ? { key: 'reject.already_claimed_unknown', params: {} }
        : { key: 'reject.already_claimed', params: { holder: conflict.holder } };
    case 'invalid':
      return conflict.field
        ? { key: 'reject.invalid_field', params: { type: change.type, field: conflict.field } }
        : { key: 'reject.invalid', params: {} };
    case 'forbidden':
    case 'not_found':
    case 'deleted':
    case 'immutable':
    case 'out_of_stock':
    case 'round_closed':
    case 'aborted':
      return { key: `reject.${code}`, params: {} };
    default:
      return { key: 'reject.unknown', params: {} };
  }
}

/**
 * Tell whether retrying a refused changeset on the latest version can succeed.
 *
 * Only a conflict of timing can be cured by trying again, and only when the
 * move it asked for is now possible from the server's state: a claim of a
 * task since cancelled, or a move from a state the record has left for good,
 * is never offered again. `faults` are [{change, conflict}] (aborted changes
 * left out); `latest(type, id)` returns the server's record as now known.
 */
export function mayRetry(declarations, user, faults, latest) {
  if (!declarations || faults.length === 0) return false;
  return faults.every(({ change, conflict }) => {
    if (!RETRYABLE.has(conflict?.code)) return false;
    const record = latest(change.type, change.id);
    if (!record || record.deleted) return false;
    const field = machineOf(declarations, change.type)?.field;
    const target = change.fields?.[field];
    if (target === undefined) return true;
    return judgeMove(declarations, change.type, record, user, target).outcome === 'applied';
  });
}
