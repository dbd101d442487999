/**
 * Decide what a user may do with a task and turn it into changes.
 *
 * Pure: no IO. The server has the last word on permissions; this only hides
 * buttons that would surely be refused and builds the changes the outbox
 * queues. Task state machine (pinned by the sync contract):
 *
 *     open ──claim──▶ claimed ──start──▶ in_progress ──done──▶ done
 *      │                │  │                  │
 *      │                │  └──────fail────────┴──fail──▶ failed (needs notes)
 *      └──cancel────────┴──cancel──▶ cancelled
 */
export const TASK_KINDS = Object.freeze(['delivery', 'medicine', 'garbage', 'check_in', 'escort', 'other']);
export const TASK_STATUSES = Object.freeze(['open', 'claimed', 'in_progress', 'done', 'failed', 'cancelled']);
export const PRIORITIES = Object.freeze([1, 2, 3]); // 1 urgent … 3 routine
export const ACTIONS = Object.freeze(['claim', 'start', 'done', 'fail', 'note', 'cancel']);

const WORKERS = new Set(['volunteer']);
const FINISHED = new Set(['done', 'failed', 'cancelled']);

// Ids are compared as strings: the server's user ids may be numbers.
export const isMine = (task, user) => task.fields.assignee_id != null && String(task.fields.assignee_id) === String(user.id);

/** Return the actions `user` can take on `task`, in display order. */
export function availableActions(task, user) {
  const { status } = task.fields;
  const coordinator = user.role === 'coordinator';
  const worker = WORKERS.has(user.role);
  const actions = [];
  if (worker && status === 'open') actions.push('claim');
  if (worker && status === 'claimed' && isMine(task, user)) actions.push('start');
  if (worker && status === 'in_progress' && isMine(task, user)) actions.push('done');
  if (worker && ['claimed', 'in_progress'].includes(status) && isMine(task, user)) actions.push('fail');
  if (!FINISHED.has(status) && (coordinator || isMine(task, user))) actions.push('note');
  if (coordinator && ['open', 'claimed'].includes(status)) actions.push('cancel');
  return actions;
}

/** Append a line to a task's notes, naming its author. */
export function appendNote(notes, author, text) {
  const line = `${author}: ${text.trim()}`;
  return notes ? `${notes}\n${line}` : line;
}

/**
 * Build the change for an action. Throws a RangeError with a message key when
 * the input is missing (a failure needs a reason, done needs proof).
 */
export function changeFor(action, task, user, input = {}) {
  const text = (input.text ?? '').trim();
  const fieldsByAction = {
    claim: () => ({ status: 'claimed', assignee_id: user.id }),
    start: () => ({ status: 'in_progress' }),
    done: () => {
      if (!text) throw new RangeError('task.error.proof_required');
      return { status: 'done', proof: text };
    },
    fail: () => {
      if (!text) throw new RangeError('task.error.reason_required');
      return { status: 'failed', notes: appendNote(task.fields.notes, user.username, text) };
    },
    note: () => {
      if (!text) throw new RangeError('task.error.note_required');
      return { notes: appendNote(task.fields.notes, user.username, text) };
    },
    cancel: () => ({ status: 'cancelled' }),
  };
  const build = fieldsByAction[action];
  if (!build) throw new RangeError(`unknown action ${action}`);
  return { type: 'task', id: task.id, op: 'update', base_version: task.version ?? 0, fields: build() };
}

/** Build the create change for a new task from form input. */
export function newTaskChange(input, id = crypto.randomUUID()) {
  const title = (input.title ?? '').trim();
  if (!title) throw new RangeError('task.error.title_required');
  if (!input.compound_id) throw new RangeError('task.error.compound_required');
  if (!TASK_KINDS.includes(input.kind)) throw new RangeError('task.error.kind_required');
  const priority = Number(input.priority);
  const fields = {
    kind: input.kind,
    title,
    status: 'open',
    compound_id: input.compound_id,
    priority: PRIORITIES.includes(priority) ? priority : 3,
  };
  if (input.building_id) fields.building_id = input.building_id;
  if (input.due_at) fields.due_at = new Date(input.due_at).toISOString();
  if ((input.notes ?? '').trim()) fields.notes = input.notes.trim();
  return { type: 'task', id, op: 'create', base_version: 0, fields };
}

/** Order tasks for a list: unfinished first, then priority, then due time. */
export function compareTasks(a, b) {
  const finished = (task) => (FINISHED.has(task.fields.status) ? 1 : 0);
  return (
    finished(a) - finished(b) ||
    (a.fields.priority ?? 3) - (b.fields.priority ?? 3) ||
    String(a.fields.due_at ?? '9999').localeCompare(String(b.fields.due_at ?? '9999')) ||
    String(a.fields.title).localeCompare(String(b.fields.title))
  );
}
