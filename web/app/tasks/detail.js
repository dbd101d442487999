/** Show one task and the actions the user can take on it. */
import { actionLabel, formatTime, t } from '../i18n.js';
import { fieldSchema, machineOf, rulesAbsent } from '../declarations.js';
import { syncBadge } from '../ui/badge.js';
import { h } from '../ui/dom.js';
import { mayViewPhotos } from '../photos.js';
import { photoInput, photoStates, photoView, pickedPhoto } from '../ui/photo.js';
import { field, screen } from '../ui/screen.js';
import { holderLabel, kindLabel, priorityLabel, statusLabel, taskFieldLabel, taskTitle } from './format.js';
import { availableActions, changeFor, InputError, TYPE } from './rules.js';

/** Inputs that come with a hint (a screen choice). */
const HINTS = Object.freeze({ proof: 'task.input.proof_hint' });
/** Actions that undo a user's work for others: asked twice, and undoable while queued. */
export const CONFIRMED = new Set(['cancel']);
/** Actions drawn as a warning button (a screen choice). */
const DANGER = new Set(['fail', 'cancel']);

let confirming = null; // "taskId:action" whose confirmation is showing

/** Drop a confirmation left showing (the router calls it when the user changes). */
function forget() {
  confirming = null;
}

function facts(task, deps, names) {
  const { fields } = task;
  const rows = [
    ['status', statusLabel(fields.status)],
    ['kind', kindLabel(fields.kind)],
    ['priority', priorityLabel(fields.priority)],
    ['compound_id', names.compounds.get(fields.compound_id)],
    ['building_id', names.buildings.get(fields.building_id)],
    ['assignee_id', holderLabel(task, deps.user, names.people)],
    ['due_at', fields.due_at ? formatTime(fields.due_at) : null],
    ['proof', fields.proof],
  ].filter(([, value]) => value);
  return h('dl', { class: 'facts' },
    ...rows.flatMap(([name, value]) => [h('dt', {}, taskFieldLabel(name)), h('dd', {}, value)]));
}

function inputControl(declarations, formId, action, { field: name, required }) {
  const id = `${formId}-${name}`;
  const multiline = Boolean(fieldSchema(declarations, TYPE, name)?.['x-multiline']);
  const control = h(multiline ? 'textarea' : 'input', {
    id, name, rows: multiline ? 3 : null, autocomplete: 'off', required,
  });
  const label = t(`task.input.${action}.${name}`);
  return field(id, required ? label : t('common.optional', { label }), control, HINTS[name] ? t(HINTS[name]) : null);
}

/** People the task may be handed to: those whose role may hold it, but not its holder. */
function assigneeChoices(deps, task, people) {
  const claim = machineOf(deps.declarations, TYPE)?.transitions.find((edge) => edge.claim);
  const roles = new Set(claim?.roles ?? []);
  return [...people].filter(([id, person]) => roles.has(person.role) && id !== String(task.fields.assignee_id))
    .sort(([, a], [, b]) => a.name.localeCompare(b.name));
}

function assigneeControl(formId, deps, task, people) {
  const id = `${formId}-assignee`;
  const choices = assigneeChoices(deps, task, people);
  return field(id, t('task.input.assignee'), h('select', { id, name: 'assignee', required: true },
    h('option', { value: '' }, t('task.input.choose_person')),
    ...choices.map(([userId, person]) => h('option', { value: userId },
      userId === String(deps.user.id) ? t('task.input.me', { name: person.name }) : `${person.name} · ${t(`role.${person.role}`)}`))));
}

/** Say next to the form what is wrong, naming the box as it is labelled. */
function showError(form, error) {
  const control = form.querySelector(`[name="${CSS.escape(error.field === 'assignee_id' ? 'assignee' : error.field)}"]`);
  const label = control?.labels?.[0]?.textContent ?? taskFieldLabel(error.field);
  form.querySelector('.error').textContent = t(`task.${error.problem.key}`, { ...error.problem.params, field: label });
  control?.setAttribute('aria-invalid', 'true');
  control?.setAttribute('aria-errormessage', form.querySelector('.error').id);
  control?.focus();
}

/** A form taking one of availableActions() on `task`: its inputs, a person for (re)assigning, the button. */
export function actionForm(deps, task, action, people) {
  const formId = `task-${action.action}`;
  const key = `${task.id}:${action.action}`;
  const asking = CONFIRMED.has(action.action) && confirming === key;
  const run = async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    if (CONFIRMED.has(action.action) && !asking) {
      confirming = key;
      await deps.redraw();
      return;
    }
    confirming = null;
    const input = Object.fromEntries(new FormData(form));
    let change;
    try {
      change = changeFor(deps.declarations, action, task, deps.user, input);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      showError(form, error);
      return;
    }
    const photo = pickedPhoto(form);
    form.reset(); // before queueing: queueing redraws the screen, keeping typed text
    await deps.queue([change], t(`task.done_message.${action.action}`), { undoable: CONFIRMED.has(action.action) });
    // After the change: the photo goes on its own, once the change has reached the server.
    if (photo) await keepPhoto(deps, task, photo);
  };
  return h('form', { class: `action action-${action.action}`, id: formId, onsubmit: run, novalidate: true },
    ...action.inputs.map((input) => inputControl(deps.declarations, formId, action.action, input)),
    action.action === 'done' && deps.photos ? photoInput(`${formId}-photo`, t('photo.input.task_proof')) : null,
    action.action === 'assign' || action.action === 'reassign' ? assigneeControl(formId, deps, task, people) : null,
    h('p', { class: 'error', role: 'alert', id: `${formId}-error` }),
    asking
      ? [h('p', { class: 'notice' }, t(`task.confirm.${action.action}`)),
        h('div', { class: 'row' },
          h('button', { type: 'submit', class: 'danger' }, t(`task.confirm.${action.action}_yes`)),
          h('button', { type: 'button', onclick: async () => { confirming = null; await deps.redraw(); } }, t('task.confirm.keep')))]
      : h('button', { type: 'submit', class: DANGER.has(action.action) ? 'danger' : 'primary' }, actionLabel(TYPE, action.action)));
}

async function keepPhoto(deps, task, file) {
  try {
    await deps.photos.add('task_proof', task.id, file);
  } catch {
    deps.toast(t('photo.unreadable'), { urgent: true });
  }
}

async function render(deps, { id }) {
  const { declarations, names: lookup, records } = deps;
  const [task, compounds, buildings, people, photos] = await Promise.all([
    records.view(TYPE, id), lookup.compounds(), lookup.buildings(), lookup.people(), deps.photos.ofRecord(id),
  ]);
  if (!task || task.deleted) {
    return screen(t('task.missing'), { back: '/tasks' }, h('p', {}, t('task.missing_detail')));
  }
  const actions = declarations ? availableActions(declarations, task, deps.user) : [];
  const proof = task.fields.status === 'done' && mayViewPhotos('task_proof', task, deps.user) ? await deps.photos.shown(id) : undefined;
  return screen(taskTitle(task), { back: '/tasks' },
    task.sync === 'synced' ? null : h('p', {}, syncBadge(task.sync),
      task.sync === 'rejected' ? [' ', h('a', { href: '#/attention' }, t('task.see_why'))] : null),
    facts(task, deps, { compounds, buildings, people }),
    proof === undefined ? null : photoView(proof, t('photo.input.task_proof')),
    photoStates(photos),
    task.fields.notes
      ? h('section', { class: 'notes' }, h('h2', {}, taskFieldLabel('notes')), h('p', { class: 'prewrap' }, task.fields.notes))
      : null,
    actions.length
      ? h('section', { class: 'actions', 'aria-label': t('task.actions') }, ...actions.map((action) => actionForm(deps, task, action, people)))
      : h('p', { class: 'hint' }, t(declarations ? 'task.no_actions' : rulesAbsent(deps))));
}

export default {
  forget,
  render,
  uses: ['user', 'declarations', 'declarationsLoading', 'records', 'names', 'queue', 'redraw', 'photos', 'toast'],
  follows: ['record:task', 'outbox', 'people', 'declarations', 'photos'],
};
