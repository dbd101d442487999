/** Show one task and the actions the user can take on it. */
import { t } from '../i18n.js';
import { availableActions, changeFor } from '../tasks.js';
import { syncBadge } from '../ui/badge.js';
import { h } from '../ui/dom.js';
import { field, screen } from '../ui/screen.js';
import { assigneeLabel, dueLabel, kindLabel, priorityLabel, statusLabel } from './task-format.js';

/** Actions that need words from the user, and the field that takes them. */
const TEXT_ACTIONS = {
  note: { id: 'task-note', label: 'task.note_label', multiline: true },
  done: { id: 'task-proof', label: 'task.proof_label', multiline: false, hint: 'task.proof_hint' },
  fail: { id: 'task-reason', label: 'task.reason_label', multiline: true },
};

function facts(task, app, compounds) {
  const rows = [
    ['task.field.status', statusLabel(task.fields.status)],
    ['task.field.kind', kindLabel(task.fields.kind)],
    ['task.field.priority', priorityLabel(task.fields.priority)],
    ['task.field.compound', compounds.get(task.fields.compound_id) ?? task.fields.compound_id],
    ['task.field.assignee', assigneeLabel(task, app.user)],
    ['task.field.due', dueLabel(task)],
    ['task.field.proof', task.fields.proof],
  ].filter(([, value]) => value);
  return h('dl', { class: 'facts' }, ...rows.flatMap(([key, value]) => [h('dt', {}, t(key)), h('dd', {}, value)]));
}

function actionControl(action, task, app) {
  const spec = TEXT_ACTIONS[action];
  const input = spec
    ? h(spec.multiline ? 'textarea' : 'input', { id: spec.id, rows: spec.multiline ? 3 : null, autocomplete: 'off' })
    : null;
  const run = async (event) => {
    event.preventDefault();
    try {
      const change = changeFor(action, task, app.user, { text: input?.value });
      // Clear before queueing: queueing redraws the screen, keeping typed text.
      if (input) input.value = '';
      await app.queue([change], t(`task.done_message.${action}`));
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      app.toast(t(error.message));
      input?.focus();
    }
  };
  const button = h('button', { type: 'submit', class: action === 'fail' || action === 'cancel' ? 'danger' : 'primary' },
    t(`task.action.${action}`));
  return h('form', { class: `action action-${action}`, onsubmit: run },
    spec ? field(spec.id, t(spec.label), input, spec.hint ? t(spec.hint) : null) : null,
    button);
}

async function render(app, { id }) {
  const [task, compounds] = await Promise.all([app.recordView('task', id), app.compoundNames()]);
  if (!task || task.deleted) {
    return screen(t('task.missing'), { back: '/tasks' }, h('p', {}, t('task.missing_detail')));
  }
  const actions = availableActions(task, app.user);
  return screen(task.fields.title, { back: '/tasks' },
    h('p', {}, syncBadge(task.sync),
      task.sync === 'rejected' ? [' ', h('a', { href: '#/attention' }, t('task.see_why'))] : null),
    facts(task, app, compounds),
    task.fields.notes ? h('section', { class: 'notes' }, h('h2', {}, t('task.field.notes')), h('p', { class: 'prewrap' }, task.fields.notes)) : null,
    actions.length
      ? h('section', { class: 'actions', 'aria-label': t('task.actions') }, ...actions.map((action) => actionControl(action, task, app)))
      : h('p', { class: 'hint' }, t('task.no_actions')));
}

export default { render, live: true };
