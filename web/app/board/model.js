/**
 * The live board's state, without the DOM: tasks in columns by status,
 * filtered, each column kept sorted so that one changed task moves one card.
 *
 * Pure: no IO. The columns are the declared states of the task machine and
 * every move or assignment a drop or the menu offers comes from
 * tasks/rules.js availableActions(), i.e. from the published declarations;
 * nothing here restates a server rule.
 */
import { enumValues, machineOf } from '../declarations.js';
import { availableActions, taskOrder, TYPE } from '../tasks/rules.js';

/** The filter that shows everything; '' means "any". `assignee` may be NOBODY. */
export const NO_FILTER = Object.freeze({ compound: '', building: '', kind: '', priority: '', assignee: '' });
/** The assignee filter's value for tasks nobody holds. */
export const NOBODY = 'nobody';

/** Return the board's columns: the declared values of the machine's state field, in order. */
export function columnsOf(declarations) {
  const machine = machineOf(declarations, TYPE);
  return machine ? enumValues(declarations, TYPE, machine.field) : [];
}

/** Return whether `task` passes `filter` (fields compared as strings: selects give strings). */
export function matches(task, filter) {
  const { fields } = task;
  const same = (want, value) => want === '' || want === String(value ?? '');
  if (filter.assignee === NOBODY && fields.assignee_id != null) return false;
  if (filter.assignee !== NOBODY && !same(filter.assignee, fields.assignee_id)) return false;
  return same(filter.compound, fields.compound_id) && same(filter.building, fields.building_id)
    && same(filter.kind, fields.kind) && same(filter.priority, fields.priority);
}

/** Find where `item` goes in the sorted `list` (the first index whose entry sorts after it). */
function insertionPoint(list, item, compare) {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compare(list[middle], item) <= 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Create the board's state.
 *
 * `columns` are state names; tasks whose state is none of them are kept but
 * shown nowhere. Methods:
 *
 * - `load(tasks)`: replace everything.
 * - `put(task)`: add or replace one task (a deleted one leaves); returns the
 *   set of column names whose shown list changed.
 * - `setFilter(filter)`: returns every column (all may change).
 * - `column(name)`: the shown tasks of a column, sorted (do not modify).
 * - `get(id)`: a task by id, shown or not.
 */
export function createBoard(declarations, columns = columnsOf(declarations)) {
  const machine = machineOf(declarations, TYPE);
  const stateField = machine?.field ?? 'status';
  const byOrder = taskOrder(declarations);
  const compare = (a, b) => byOrder(a, b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const tasks = new Map();
  const shown = new Map(columns.map((name) => [name, []]));
  let filter = NO_FILTER;

  const columnOf = (task) => (task && !task.deleted && matches(task, filter) ? task.fields[stateField] : null);

  function remove(task) {
    const list = shown.get(columnOf(task));
    if (!list) return null;
    let index = insertionPoint(list, task, compare) - 1;
    if (list[index]?.id !== task.id) index = list.findIndex((other) => other.id === task.id);
    if (index < 0) return null;
    list.splice(index, 1);
    return columnOf(task);
  }

  function add(task) {
    const list = shown.get(columnOf(task));
    if (!list) return null;
    list.splice(insertionPoint(list, task, compare), 0, task);
    return columnOf(task);
  }

  function rebuild() {
    for (const list of shown.values()) list.length = 0;
    for (const task of tasks.values()) {
      const list = shown.get(columnOf(task));
      if (list) list.push(task);
    }
    for (const list of shown.values()) list.sort(compare);
  }

  return {
    columns,
    load(all) {
      tasks.clear();
      for (const task of all) if (!task.deleted) tasks.set(task.id, task);
      rebuild();
    },
    put(task) {
      const changed = new Set();
      const before = tasks.get(task.id);
      if (before) changed.add(remove(before));
      if (task.deleted) tasks.delete(task.id);
      else {
        tasks.set(task.id, task);
        changed.add(add(task));
      }
      changed.delete(null);
      return changed;
    },
    setFilter(next) {
      filter = { ...NO_FILTER, ...next };
      rebuild();
      return new Set(columns);
    },
    get filter() {
      return filter;
    },
    column: (name) => shown.get(name) ?? [],
    get: (id) => tasks.get(id) ?? null,
    /** Return every task, shown or not (for filter choices). */
    all: () => tasks.values(),
  };
}

/**
 * Return the rows of a column to draw: `[start, end)` around what a scroll
 * box of `viewport` px at `scrollTop` shows of `count` rows of `row` px,
 * with `overscan` rows either side so a short scroll shows drawn cards.
 */
export function windowOf({ scrollTop, viewport, row, count, overscan = 5 }) {
  const first = Math.max(0, Math.floor(scrollTop / row) - overscan);
  const last = Math.min(count, Math.ceil((scrollTop + viewport) / row) + overscan);
  return [Math.min(first, last), last];
}

/**
 * Return what dropping `task` on `target` asks for, or null if nothing may.
 *
 * `target` is `{status}` (a column) or `{assignee}` (a person's user id).
 * The answer is one of availableActions() — a move to that state, `assign`
 * (a claim for someone) or `reassign` — with `assignee` filled in when the
 * drop named a person. Inputs the action still needs (a reason to fail, a
 * person for a claim dropped on a column) are the menu's to ask.
 */
export function dropAction(declarations, task, user, target) {
  const actions = availableActions(declarations, task, user);
  if (target.assignee != null) {
    if (String(target.assignee) === String(task.fields.assignee_id ?? '')) return null;
    const handing = actions.find((action) => action.action === 'assign' || action.action === 'reassign');
    return handing ? { ...handing, assignee: String(target.assignee) } : null;
  }
  return actions.find((action) => action.to === target.status) ?? null;
}

/** Return the inputs an action still needs from the menu before it can be queued. */
export function missingInputs(action) {
  const needs = action.inputs.filter((input) => input.required).map((input) => input.field);
  if ((action.action === 'assign' || action.action === 'reassign') && action.assignee == null) needs.push('assignee');
  return needs;
}
