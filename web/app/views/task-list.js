/** List the tasks in the user's scope, most urgent first. */
import { t } from '../i18n.js';
import { compareTasks, isMine } from '../tasks.js';
import { syncBadge } from '../ui/badge.js';
import { h } from '../ui/dom.js';
import { field, screen } from '../ui/screen.js';
import { assigneeLabel, dueLabel, kindLabel, priorityLabel, statusLabel } from './task-format.js';

export const FILTERS = Object.freeze({
  active: (task) => !['done', 'failed', 'cancelled'].includes(task.fields.status),
  open: (task) => task.fields.status === 'open',
  mine: (task, user) => isMine(task, user),
  all: () => true,
});

let chosen = 'active'; // kept while the app is open

function item(task, app, compounds) {
  return h('li', { class: `task priority-${task.fields.priority ?? 3}` },
    h('a', { href: `#/tasks/${encodeURIComponent(task.id)}` },
      h('span', { class: 'task-title' }, task.fields.title),
      h('span', { class: 'task-meta' },
        [priorityLabel(task.fields.priority), kindLabel(task.fields.kind), statusLabel(task.fields.status),
          compounds.get(task.fields.compound_id) ?? '', assigneeLabel(task, app.user), dueLabel(task)]
          .filter(Boolean).join(' · ')),
      syncBadge(task.sync)));
}

async function render(app) {
  const [tasks, compounds] = await Promise.all([app.recordViews('task'), app.compoundNames()]);
  const shown = tasks.filter((task) => FILTERS[chosen](task, app.user)).sort(compareTasks);
  const select = h('select', {
    id: 'task-filter',
    onchange: async (event) => {
      chosen = event.target.value;
      await app.redraw();
    },
  }, ...Object.keys(FILTERS).map((name) => h('option', { value: name, selected: name === chosen }, t(`tasks.filter.${name}`))));
  return screen(t('tasks.title'), { back: '/' },
    app.user.role === 'coordinator' ? h('a', { class: 'button primary', href: '#/tasks/new' }, t('tasks.new')) : null,
    field('task-filter', t('tasks.filter'), select),
    h('p', { class: 'count', 'aria-live': 'polite' }, t('tasks.count', { count: shown.length })),
    shown.length
      ? h('ul', { class: 'task-list' }, ...shown.map((task) => item(task, app, compounds)))
      : h('p', { class: 'empty' }, t('tasks.empty')));
}

export default { render, live: true };
