/**
 * List the tasks in the user's scope, most urgent first, filtered by
 * progress, compound and building.
 */
import { t } from '../i18n.js';
import { syncBadge } from '../ui/badge.js';
import { h } from '../ui/dom.js';
import { field, screen } from '../ui/screen.js';
import { mayCreate } from '../declarations.js';
import {
  dueLine, holderLabel, kindLabel, priorityLabel, sortedChoices, statusLabel, taskTitle,
} from './format.js';
import { isFinal, isMine, taskOrder, TYPE } from './rules.js';

/** Progress filters: their names are not status names, so none reads as one. */
export const FILTERS = Object.freeze({
  active: (task, { declarations }) => !isFinal(declarations, task),
  unclaimed: (task) => task.fields.assignee_id == null && task.fields.status === 'open',
  mine: (task, { user }) => isMine(task, user),
  all: () => true,
});

// Kept while the app is open, for one user (`forget`, see router.js).
const EVERYWHERE = { progress: 'active', compound: '', building: '' };
const chosen = { ...EVERYWHERE };

function forget() {
  Object.assign(chosen, EVERYWHERE);
}

function item(task, deps, names) {
  const { fields } = task;
  const urgent = isFinal(deps.declarations, task) ? 'is-final' : `priority-${fields.priority ?? 3}`;
  return h('li', { class: `task ${urgent}` },
    h('a', { href: `#/tasks/${encodeURIComponent(task.id)}` },
      h('span', { class: 'task-title' }, taskTitle(task)),
      h('span', { class: 'task-meta' },
        [statusLabel(fields.status), priorityLabel(fields.priority), kindLabel(fields.kind),
          names.buildings.get(fields.building_id) ?? names.compounds.get(fields.compound_id) ?? '',
          holderLabel(task, deps.user, names.people), dueLine(task)]
          .filter(Boolean).join(' · ')),
      task.sync === 'synced' ? null : syncBadge(task.sync)));
}

function select(id, label, options, value, onchange) {
  return field(id, label, h('select', { id, onchange },
    ...options.map(([optionValue, text]) => h('option', { value: optionValue, selected: optionValue === value }, text))));
}

function filters(deps, names, buildingsOf) {
  const choose = (key) => async (event) => {
    chosen[key] = event.target.value;
    if (key === 'compound') chosen.building = '';
    await deps.redraw();
  };
  const compounds = sortedChoices(names.compounds);
  // Buildings are offered within one compound: "3号楼" of every compound would read the same.
  const compound = compounds.length === 1 ? compounds[0][0] : chosen.compound;
  const buildings = compound ? sortedChoices(names.buildings, (id) => buildingsOf.get(id) === compound) : [];
  return h('div', { class: 'filters' },
    select('task-filter', t('tasks.filter'), Object.keys(FILTERS).map((name) => [name, t(`tasks.filter.${name}`)]),
      chosen.progress, choose('progress')),
    compounds.length > 1
      ? select('task-compound', t('tasks.filter.compound'), [['', t('tasks.filter.any_compound')], ...compounds], chosen.compound, choose('compound'))
      : null,
    buildings.length
      ? select('task-building', t('tasks.filter.building'), [['', t('tasks.filter.any_building')], ...buildings], chosen.building, choose('building'))
      : null);
}

async function render(deps) {
  const { declarations, names: lookup, records, user } = deps;
  const [compounds, buildings, people, buildingRecords] = await Promise.all([
    lookup.compounds(), lookup.buildings(), lookup.people(), records.views('building'),
  ]);
  const names = { compounds, buildings, people };
  const buildingsOf = new Map(buildingRecords.map((b) => [b.id, b.fields.compound_id]));
  if (chosen.compound && !compounds.has(chosen.compound)) Object.assign(chosen, { compound: '', building: '' });
  const where = chosen.building ? { building_id: chosen.building } : chosen.compound ? { compound_id: chosen.compound } : {};
  const tasks = await records.views(TYPE, where);
  const shown = tasks.filter((task) => FILTERS[chosen.progress](task, deps)).sort(taskOrder(declarations));
  return screen(t('tasks.title'), { back: '/' },
    mayCreate(declarations, TYPE, user.role) ? h('a', { class: 'button primary', href: '#/tasks/new' }, t('tasks.new')) : null,
    filters(deps, names, buildingsOf),
    h('p', { class: 'count' }, t('tasks.count', { count: shown.length })),
    shown.length
      ? h('ul', { class: 'task-list' }, ...shown.map((task) => item(task, deps, names)))
      : h('p', { class: 'empty' }, t('tasks.empty')));
}

export default {
  forget,
  render,
  uses: ['user', 'declarations', 'records', 'names', 'redraw'],
  follows: ['record:task', 'record:compound', 'record:building', 'outbox', 'people', 'declarations'],
};
