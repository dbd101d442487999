/**
 * The triage queue: requests waiting for a decision, most urgent first, then
 * the oldest; decided ones below. What is waiting and what is final come from
 * the declared state machine, never from a list kept here.
 */
import { machineOf } from '../declarations.js';
import { t, valueLabel } from '../i18n.js';
import { syncBadge } from '../ui/badge.js';
import { h } from '../ui/dom.js';
import { screen } from '../ui/screen.js';
import { placeOf, TYPE, triageOrder } from './rules.js';

function item(request, places) {
  const f = request.fields;
  return h('li', { class: `task priority-${{ urgent: 1, today: 2 }[f.urgency] ?? 3}`, 'data-request': request.id },
    h('a', { href: `#/med/${encodeURIComponent(request.id)}` },
      h('span', { class: 'task-title' }, `${f.medicine}${f.dose ? ` · ${f.dose}` : ''}`),
      h('span', { class: 'task-meta' }, [valueLabel(TYPE, 'urgency', f.urgency), valueLabel(TYPE, 'status', f.status), places(request)].filter(Boolean).join(' · ')),
      request.sync === 'synced' ? null : syncBadge(request.sync)));
}

async function render({ records, declarations }) {
  const [requests, residents, households, buildings] = await Promise.all([
    records.views(TYPE), records.views('resident'), records.views('household'), records.views('building'),
  ]);
  const final = new Set(machineOf(declarations, TYPE)?.final ?? []);
  const places = placeOf(residents, households, buildings);
  const live = requests.filter((r) => !r.deleted).sort(triageOrder(declarations));
  const waiting = live.filter((r) => !final.has(r.fields.status));
  const decided = live.filter((r) => final.has(r.fields.status));
  return screen(t('section.med_requests'), { back: '/' },
    h('h2', {}, t('med.waiting', { count: waiting.length })),
    waiting.length ? h('ul', { class: 'task-list', id: 'med-waiting' }, ...waiting.map((r) => item(r, places))) : h('p', { class: 'empty' }, t('med.none_waiting')),
    decided.length ? [h('h2', {}, t('med.decided', { count: decided.length })), h('ul', { class: 'task-list', id: 'med-decided' }, ...decided.map((r) => item(r, places)))] : null);
}

export default { render, uses: ['records', 'declarations'], follows: ['record:med_request', 'outbox', 'declarations'] };
