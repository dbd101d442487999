/**
 * Open a supply round: its compounds (of the leader's own), its window and
 * the most one household may order of each package. Works offline: the
 * round is queued like any change; packages are added on the round's screen.
 */
import { mayCreate } from '../declarations.js';
import { fieldLabel, naturalCompare, t } from '../i18n.js';
import { h } from '../ui/dom.js';
import { field, screen } from '../ui/screen.js';
import { OrderInputError, roundChange } from './rules.js';

const ROUND = 'supply_round';

/** Return `date` as a datetime-local value, in the device's time zone. */
function localInput(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** The usual day: orders from now until the next noon, goods at 17:00 that day. */
function usualTimes(now) {
  const cutoff = new Date(now);
  cutoff.setHours(12, 0, 0, 0);
  if (cutoff <= now) cutoff.setDate(cutoff.getDate() + 1);
  const delivery = new Date(cutoff);
  delivery.setHours(17);
  return { opens_at: localInput(now), cutoff_at: localInput(cutoff), delivers_at: localInput(delivery) };
}

const label = (name, optional = false) => (optional ? t('common.optional', { label: fieldLabel(ROUND, name) }) : fieldLabel(ROUND, name));

async function render(deps) {
  const { declarations, names, user } = deps;
  if (!mayCreate(declarations, ROUND, user.role)) {
    return screen(t('supplies.new'), { back: '/supplies' }, h('p', {}, t('supplies.new_not_allowed')));
  }
  const compounds = [...(await names.compounds())].sort(([, a], [, b]) => naturalCompare(a, b));
  const times = usualTimes(new Date());
  const title = h('input', { id: 'round-title', name: 'title', autocomplete: 'off' });
  const boxes = compounds.map(([id, name]) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', name: 'compound_ids', value: id, checked: compounds.length === 1 }), ` ${name}`));
  const when = Object.fromEntries(Object.entries(times).map(([name, value]) => [name,
    h('input', { id: `round-${name}`, name, type: 'datetime-local', required: true, value })]));
  const limit = h('input', { id: 'round-household_limit', name: 'household_limit', type: 'number', inputmode: 'numeric', min: 1, max: 99, value: '3' });
  const error = h('p', { class: 'error', role: 'alert', id: 'round-error' });

  async function onSubmit(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const input = { ...Object.fromEntries(data), compound_ids: data.getAll('compound_ids') };
    let change;
    try {
      change = roundChange(input, user.role === 'team_leader' ? user.id : null);
    } catch (problem) {
      if (!(problem instanceof OrderInputError)) throw problem;
      error.textContent = t(problem.key, problem.params);
      form.querySelector(`[name="${CSS.escape(problem.field)}"]`)?.focus();
      return;
    }
    await deps.queue([change], t('supplies.new_created'));
    deps.navigate(`/supplies/${change.id}`);
  }

  return screen(t('supplies.new'), { back: '/supplies' },
    h('form', { onsubmit: onSubmit, novalidate: true, id: 'new-round' },
      field(title.id, label('title', true), title),
      h('fieldset', { id: 'round-compounds' }, h('legend', {}, label('compound_ids')), ...boxes),
      ...Object.entries(when).map(([name, input]) => field(input.id, label(name), input)),
      field(limit.id, label('household_limit', true), limit, t('supplies.limit_hint')),
      error,
      h('button', { type: 'submit', class: 'primary' }, t('supplies.new_submit'))));
}

export default { render, uses: ['user', 'declarations', 'names', 'queue', 'navigate'], follows: ['declarations'] };
