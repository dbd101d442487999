/** The supply rounds the user sees, open ones first; the form opening one (the server judges who may). */
import { mayCreate } from '../declarations.js';
import { fieldLabel, naturalCompare, t } from '../i18n.js';
import { h } from '../ui/dom.js';
import { field, screen } from '../ui/screen.js';
import { roundName, windowText } from './format.js';
import { submitting } from './round.js';
import { isOpen, roundChange, roundOrder } from './rules.js';

/** One round as a list item linking to it. */
export function roundItem(round, now) {
  return h('li', { class: `task ${isOpen(round, now) ? 'priority-2' : 'is-final'}` },
    h('a', { href: `#/supplies/${encodeURIComponent(round.id)}` },
      h('span', { class: 'task-title' }, roundName(round)),
      h('span', { class: 'task-meta' }, `${t(isOpen(round, now) ? 'supplies.open' : 'supplies.closed')} · ${windowText(round)}`)));
}

async function render({ records, declarations, user }) {
  const now = new Date();
  const rounds = (await records.views('supply_round')).filter((r) => !r.deleted).sort(roundOrder(now));
  return screen(t('supplies.title'), { back: '/' },
    mayCreate(declarations, 'supply_round', user.role) ? h('a', { class: 'button primary', href: '#/supplies/new' }, t('supplies.new')) : null,
    rounds.length
      ? h('ul', { class: 'task-list', id: 'rounds' }, ...rounds.map((round) => roundItem(round, now)))
      : h('p', { class: 'empty' }, t('supplies.no_rounds')));
}

const ROUND = 'supply_round';

/** Return `date` as a datetime-local value, in the device's time zone. */
const localInput = (date) => new Date(date - date.getTimezoneOffset() * 60000).toISOString().slice(0, 16);

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

async function renderNew(deps) {
  const { names, user } = deps;
  const compounds = [...(await names.compounds())].sort(([, a], [, b]) => naturalCompare(a, b));
  const times = usualTimes(new Date());
  const title = h('input', { id: 'round-title', name: 'title', autocomplete: 'off' });
  const boxes = compounds.map(([id, name]) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', name: 'compound_ids', value: id, checked: compounds.length === 1 }), ` ${name}`));
  const when = Object.fromEntries(Object.entries(times).map(([name, value]) => [name,
    h('input', { id: `round-${name}`, name, type: 'datetime-local', required: true, value })]));
  const limit = h('input', { id: 'round-household_limit', name: 'household_limit', type: 'number', inputmode: 'numeric', min: 1, max: 99, value: '3' });
  const error = h('p', { class: 'error', role: 'alert', id: 'round-error' });

  const build = (data) => roundChange({ ...Object.fromEntries(data), compound_ids: data.getAll('compound_ids') },
    user.role === 'team_leader' ? user.id : null);
  const onSubmit = submitting(deps, error, build, t('supplies.saved'), (change) => deps.navigate(`/supplies/${change.id}`));

  return screen(t('supplies.new'), { back: '/supplies' },
    h('form', { onsubmit: onSubmit, novalidate: true, id: 'new-round' },
      field(title.id, label('title', true), title),
      h('fieldset', { id: 'round-compounds' }, h('legend', {}, label('compound_ids')), ...boxes),
      ...Object.entries(when).map(([name, input]) => field(input.id, label(name), input)),
      field(limit.id, label('household_limit', true), limit),
      error,
      h('button', { type: 'submit', class: 'primary' }, t('supplies.new'))));
}

/** The form opening a round. */
export const newRound = { render: renderNew, uses: ['user', 'names', 'queue', 'navigate'] };

export default { render, uses: ['records', 'declarations', 'user'], follows: ['record:supply_round', 'outbox', 'declarations'] };
