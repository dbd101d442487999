/** Words for task fields, shared by the task screens. */
import { fieldLabel, formatTime, naturalCompare, t, valueLabel } from '../i18n.js';
import { isMine, TYPE } from './rules.js';

export const statusLabel = (status) => valueLabel(TYPE, 'status', status);
export const kindLabel = (kind) => valueLabel(TYPE, 'kind', kind);
export const priorityLabel = (priority) => valueLabel(TYPE, 'priority', priority ?? 3);
export const taskFieldLabel = (field) => fieldLabel(TYPE, field);
/** A task's heading: its title, or its kind for a role that does not receive titles (a guard). */
export const taskTitle = (task) => task.fields.title ?? kindLabel(task.fields.kind);

/** Name who holds the task: "you", their display name, or nobody. `names` maps user id → {name, role}. */
export function holderLabel(task, user, names) {
  const holder = task.fields.assignee_id;
  if (holder == null) return t('task.unassigned');
  if (isMine(task, user)) return t('task.assigned_to_you');
  return names.get(String(holder))?.name ?? t('task.assigned_to_unknown');
}

/** The due line of a list item: "Due 4/2/22, 6:00 PM", or nothing. */
export function dueLine(task) {
  return task.fields.due_at ? t('task.due', { time: formatTime(task.fields.due_at) }) : '';
}

/** Return [id, name] pairs sorted the way people read them ("2号楼" before "10号楼"). */
export function sortedChoices(names, keep = () => true) {
  return [...names].filter(([id]) => keep(id)).sort(([, a], [, b]) => naturalCompare(a, b));
}
