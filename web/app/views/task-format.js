/** Words for task fields, shared by the task screens. */
import { formatTime, t } from '../i18n.js';
import { isMine } from '../tasks.js';

export function statusLabel(status) {
  return t(`task.status.${status}`);
}

export function kindLabel(kind) {
  return t(`task.kind.${kind}`);
}

export function priorityLabel(priority) {
  return t(`task.priority.${priority ?? 3}`);
}

export function assigneeLabel(task, user) {
  if (task.fields.assignee_id == null) return t('task.unassigned');
  return isMine(task, user) ? t('task.assigned_to_you') : t('task.assigned_to_other');
}

export function dueLabel(task) {
  return task.fields.due_at ? t('task.due', { time: formatTime(task.fields.due_at) }) : '';
}
