/**
 * Decide what a user may do with a task and turn it into changes.
 *
 * Pure: no IO. The moves come from the server's published declaration of
 * `task` (declarations.js), so this module never restates the state machine:
 * it adds only what the screen needs on top — a note, handing a task to
 * someone (for roles that may set the holder), the inputs a move takes.
 */
import { allowedMoves, checkValue, machineOf, mayAssign, mayUpdateField, typeOf } from '../declarations.js';
import { newId } from '../ids.js';

export const TYPE = 'task';

/** Fields whose input is added to what is there, one line per author. */
const APPENDED = new Set(['notes']);

// Ids are compared as strings: the server's user ids are numbers.
const sameUser = (a, b) => a != null && b != null && String(a) === String(b);

export const isMine = (task, user) => sameUser(task.fields.assignee_id, user.id);

/** Return whether the task is in a final state of the declared machine. */
export function isFinal(declarations, task) {
  const machine = machineOf(declarations, TYPE);
  return Boolean(machine?.final?.includes(task.fields[machine.field]));
}

function mayNote(declarations, task, user) {
  if (isFinal(declarations, task) || !mayUpdateField(declarations, TYPE, user.role, 'notes')) return false;
  const machine = machineOf(declarations, TYPE);
  return !machine?.holder_roles?.includes(user.role) || isMine(task, user);
}

/**
 * Return the actions `user` can take on `task`, in display order.
 *
 * Each is `{action, to?, inputs: [{field, required}]}`: the declared moves
 * that would be applied, then `assign` (a claim for someone) or `reassign`
 * for roles that may set the holder, then `note`.
 */
export function availableActions(declarations, task, user) {
  const machine = machineOf(declarations, TYPE);
  const assigner = mayAssign(declarations, TYPE, user);
  const held = machine?.held?.includes(task.fields[machine?.field]);
  const actions = allowedMoves(declarations, TYPE, task, user).map((move) => ({
    action: move.claim && assigner ? 'assign' : move.action,
    to: move.to,
    inputs: move.requires.map((field) => ({ field, required: true })),
  }));
  if (assigner && held && !isFinal(declarations, task)) actions.push({ action: 'reassign', inputs: [] });
  if (mayNote(declarations, task, user)) actions.push({ action: 'note', inputs: [{ field: 'notes', required: true }] });
  return actions;
}

/** Append a line to a task's notes, naming its author. */
export function appendNote(notes, author, text) {
  const line = `${author}: ${text.trim()}`;
  return notes ? `${notes}\n${line}` : line;
}

/** A refused input: `field` and the message `{key, params}` explaining why. */
export class InputError extends RangeError {
  constructor(field, problem) {
    super(problem.key);
    this.name = 'InputError';
    this.field = field;
    this.problem = problem;
  }
}

function inputFields(declarations, action, task, user, input) {
  const fields = {};
  for (const { field, required } of action.inputs) {
    const text = (input[field] ?? '').trim();
    if (!text) {
      if (required) throw new InputError(field, { key: 'invalid.required', params: {} });
      continue;
    }
    fields[field] = APPENDED.has(field) ? appendNote(task.fields[field], user.username, text) : text;
    const problem = checkValue(declarations, TYPE, field, fields[field], { required });
    if (problem) throw new InputError(field, problem);
  }
  return fields;
}

/**
 * Build the change for one of availableActions(). `input` maps field names
 * to what the user typed, and `assignee` to the chosen user id.
 *
 * @throws {InputError} when an input is missing or out of its declared limits.
 */
export function changeFor(declarations, action, task, user, input = {}) {
  const machine = machineOf(declarations, TYPE);
  const fields = inputFields(declarations, action, task, user, input);
  if (action.to) fields[machine.field] = action.to;
  if (action.action === 'assign' || action.action === 'reassign') {
    if (input.assignee == null || input.assignee === '') throw new InputError(machine.holder, { key: 'invalid.required', params: {} });
    fields[machine.holder] = Number.isNaN(Number(input.assignee)) ? input.assignee : Number(input.assignee);
  } else if (action.action === 'claim') {
    fields[machine.holder] = user.id;
  }
  return { type: TYPE, id: task.id, op: 'update', base_version: task.version ?? 0, fields };
}

/** Return the values a new task's `field` may take, as declared. */
export function choices(declarations, field) {
  const schema = typeOf(declarations, TYPE)?.fields?.[field];
  if (schema?.enum) return schema.enum;
  if (schema?.type === 'integer' && Number.isInteger(schema.minimum) && Number.isInteger(schema.maximum)) {
    return Array.from({ length: schema.maximum - schema.minimum + 1 }, (_, i) => schema.minimum + i);
  }
  return [];
}

/**
 * Build the create change for a new task from form input.
 *
 * @throws {InputError} naming the first field the declaration refuses.
 */
export function newTaskChange(declarations, input, id = newId()) {
  const declared = typeOf(declarations, TYPE);
  const fields = { ...(declared?.defaults ?? {}) };
  const given = {
    kind: input.kind || null,
    title: (input.title ?? '').trim() || null,
    compound_id: input.compound_id || null,
    building_id: input.building_id || null,
    priority: input.priority === undefined || input.priority === '' ? null : Number(input.priority),
    due_at: input.due_at ? new Date(input.due_at).toISOString() : null,
    notes: (input.notes ?? '').trim() || null,
  };
  for (const [field, value] of Object.entries(given)) {
    const problem = checkValue(declarations, TYPE, field, value);
    if (problem) throw new InputError(field, problem);
    if (value !== null) fields[field] = value;
  }
  return { type: TYPE, id, op: 'create', base_version: 0, fields };
}

/** Order tasks for a list: unfinished first, then priority, then due time. */
export function taskOrder(declarations) {
  const finished = (task) => (isFinal(declarations, task) ? 1 : 0);
  return (a, b) =>
    finished(a) - finished(b) ||
    (a.fields.priority ?? 3) - (b.fields.priority ?? 3) ||
    String(a.fields.due_at ?? '9999').localeCompare(String(b.fields.due_at ?? '9999')) ||
    String(a.fields.title ?? '').localeCompare(String(b.fields.title ?? ''));
}
