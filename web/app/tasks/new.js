/** Let a role that may create tasks add one in a synced compound. */
import { mayCreate } from '../declarations.js';
import { t } from '../i18n.js';
import { h } from '../ui/dom.js';
import { field, screen } from '../ui/screen.js';
import { kindLabel, priorityLabel, sortedChoices, taskFieldLabel } from './format.js';
import { choices, InputError, newTaskChange, TYPE } from './rules.js';

/** The priority a new task starts with: the least urgent the declaration allows. */
const routine = (priorities) => priorities.at(-1);

function options(pairs, { empty = null } = {}) {
  return [
    empty ? h('option', { value: '' }, empty) : null,
    ...pairs.map(([value, text]) => h('option', { value: String(value) }, text)),
  ].filter(Boolean);
}

function labelled(name, control, { optional = false } = {}) {
  const label = taskFieldLabel(name);
  return field(control.id, optional ? t('common.optional', { label }) : label, control);
}

async function render(deps) {
  const { declarations, names, records, user } = deps;
  if (!mayCreate(declarations, TYPE, user.role)) {
    return screen(t('tasks.new'), { back: '/tasks' }, h('p', {}, t('task.new.not_allowed')));
  }
  const [compounds, buildings] = await Promise.all([names.compounds(), records.views('building')]);
  if (compounds.size === 0) {
    return screen(t('tasks.new'), { back: '/tasks' }, h('p', {}, t('task.new.no_compounds')));
  }
  const priorities = choices(declarations, 'priority');
  const title = h('input', { id: 'new-title', name: 'title', required: true, autocomplete: 'off' });
  const kind = h('select', { id: 'new-kind', name: 'kind' }, ...options(choices(declarations, 'kind').map((k) => [k, kindLabel(k)])));
  const priority = h('select', { id: 'new-priority', name: 'priority' }, ...options(priorities.map((p) => [p, priorityLabel(p)])));
  priority.value = String(routine(priorities));
  const building = h('select', { id: 'new-building', name: 'building_id' });
  const compound = h('select', { id: 'new-compound', name: 'compound_id', required: true, onchange: () => fillBuildings() },
    ...options(sortedChoices(compounds)));
  function fillBuildings() {
    const inCompound = new Map(buildings.filter((b) => b.fields.compound_id === compound.value).map((b) => [b.id, b.fields.name ?? b.id]));
    building.replaceChildren(...options(sortedChoices(inCompound), { empty: t('task.new.any_building') }));
  }
  fillBuildings();
  const due = h('input', { id: 'new-due', name: 'due_at', type: 'datetime-local' });
  const notes = h('textarea', { id: 'new-notes', name: 'notes', rows: 3 });
  const error = h('p', { class: 'error', role: 'alert', id: 'new-error' });

  async function onSubmit(event) {
    event.preventDefault();
    const form = event.currentTarget;
    let change;
    try {
      change = newTaskChange(declarations, Object.fromEntries(new FormData(form)));
    } catch (problem) {
      if (!(problem instanceof InputError)) throw problem;
      error.textContent = t(`task.${problem.problem.key}`, { ...problem.problem.params, field: taskFieldLabel(problem.field) });
      form.querySelector(`[name="${CSS.escape(problem.field)}"]`)?.focus();
      return;
    }
    await deps.queue([change], t('task.new.created'));
    deps.navigate(`/tasks/${change.id}`);
  }

  return screen(t('tasks.new'), { back: '/tasks' },
    h('form', { onsubmit: onSubmit, novalidate: true },
      labelled('title', title),
      labelled('kind', kind),
      labelled('priority', priority),
      labelled('compound_id', compound),
      labelled('building_id', building, { optional: true }),
      labelled('due_at', due, { optional: true }),
      labelled('notes', notes, { optional: true }),
      error,
      h('button', { type: 'submit', class: 'primary' }, t('task.new.submit'))));
}

export default { render, uses: ['user', 'declarations', 'records', 'names', 'queue', 'navigate'], follows: ['declarations'] };
