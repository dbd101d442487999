/** Let a coordinator create a task in one of the synced compounds. */
import { t } from '../i18n.js';
import { newTaskChange, PRIORITIES, TASK_KINDS } from '../tasks.js';
import { h } from '../ui/dom.js';
import { field, screen } from '../ui/screen.js';
import { kindLabel, priorityLabel } from './task-format.js';

const label = (record) => record.fields.name ?? record.fields.code ?? record.id;

function options(records, { empty = null } = {}) {
  return [
    empty ? h('option', { value: '' }, empty) : null,
    ...records.map((record) => h('option', { value: record.id }, label(record))),
  ];
}

async function render(app) {
  if (app.user.role !== 'coordinator') {
    return screen(t('tasks.new'), { back: '/tasks' }, h('p', {}, t('task.new.coordinators_only')));
  }
  const [compounds, buildings] = await Promise.all([app.recordViews('compound'), app.recordViews('building')]);
  if (compounds.length === 0) {
    return screen(t('tasks.new'), { back: '/tasks' }, h('p', {}, t('task.new.no_compounds')));
  }
  const title = h('input', { id: 'new-title', required: true, autocomplete: 'off' });
  const kind = h('select', { id: 'new-kind' }, ...TASK_KINDS.map((k) => h('option', { value: k }, kindLabel(k))));
  const priority = h('select', { id: 'new-priority' },
    ...PRIORITIES.map((p) => h('option', { value: String(p), selected: p === 3 }, priorityLabel(p))));
  const building = h('select', { id: 'new-building' });
  const fillBuildings = () => {
    const inCompound = buildings.filter((b) => b.fields.compound_id === compound.value);
    building.replaceChildren(...options(inCompound, { empty: t('task.new.any_building') }).filter(Boolean));
  };
  const compound = h('select', { id: 'new-compound', required: true, onchange: fillBuildings }, ...options(compounds));
  fillBuildings();
  const due = h('input', { id: 'new-due', type: 'datetime-local' });
  const notes = h('textarea', { id: 'new-notes', rows: 3 });

  async function onSubmit(event) {
    event.preventDefault();
    let change;
    try {
      change = newTaskChange({
        title: title.value, kind: kind.value, priority: priority.value, compound_id: compound.value,
        building_id: building.value, due_at: due.value, notes: notes.value,
      });
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      app.toast(t(error.message));
      return;
    }
    await app.queue([change], t('task.new.created'));
    app.navigate(`/tasks/${change.id}`);
  }

  return screen(t('tasks.new'), { back: '/tasks' },
    h('form', { onsubmit: onSubmit },
      field('new-title', t('task.field.title'), title),
      field('new-kind', t('task.field.kind'), kind),
      field('new-priority', t('task.field.priority'), priority),
      field('new-compound', t('task.field.compound'), compound),
      field('new-building', t('task.field.building'), building),
      field('new-due', t('task.field.due_at'), due),
      field('new-notes', t('task.field.notes'), notes),
      h('button', { type: 'submit', class: 'primary' }, t('task.new.submit'))));
}

export default { render };
