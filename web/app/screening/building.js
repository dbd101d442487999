/**
 * One building's stairwells: per unit a progress bar and its households in
 * door order, floor by floor; "no answer" is one tap on the list.
 */
import { t, valueLabel } from '../i18n.js';
import { syncBadge } from '../ui/badge.js';
import { h } from '../ui/dom.js';
import { screen } from '../ui/screen.js';
import { progress, statusOf, TYPE, units, visitChange, visitsByHousehold } from './walk.js';
import { progressBar } from './view.js';

function door(deps, household, visits) {
  const status = statusOf(visits);
  const latest = visits?.[0];
  const noAnswer = async () => {
    const change = visitChange(deps.declarations, household, { outcome: 'no_answer' });
    await deps.queue([change], t('screening.saved_no_answer', { room: household.fields.room }));
  };
  return h('li', { class: `door is-${status}` },
    h('a', { class: 'door-link', href: `#/screening/households/${encodeURIComponent(household.id)}` },
      h('span', { class: 'door-room' }, household.fields.room),
      h('span', { class: 'door-status' }, t(`screening.status.${status}`),
        latest ? ` · ${valueLabel(TYPE, 'outcome', latest.fields.outcome)}` : ''),
      latest && latest.sync !== 'synced' ? syncBadge(latest.sync) : null),
    status === 'visited' ? null : h('button', { type: 'button', class: 'door-no-answer', onclick: noAnswer,
      'aria-label': t('screening.no_answer_for', { room: household.fields.room }) }, t('screening.no_answer')));
}

async function render(deps, { id }) {
  const { records } = deps;
  const [building, households, visits] = await Promise.all([
    records.view('building', id), records.views('household', { building_id: id }), records.views(TYPE, { building_id: id }),
  ]);
  if (!building || building.deleted) return screen(t('screening.missing'), { back: '/screening' }, h('p', {}, t('screening.missing_detail')));
  const byHousehold = visitsByHousehold(visits);
  const name = building.fields.name;
  return screen(name, { back: '/screening' },
    progressBar(progress(households, byHousehold), name),
    ...units(households).map(([unit, homes]) => {
      const label = t('screening.unit', { unit });
      return h('section', { class: 'unit', 'aria-label': label },
        h('h2', {}, label),
        progressBar(progress(homes, byHousehold), label),
        h('ol', { class: 'doors' }, ...homes.map((home) => door(deps, home, byHousehold.get(home.id)))));
    }),
    households.length ? null : h('p', { class: 'empty' }, t('screening.no_households')));
}

export default {
  render,
  uses: ['records', 'declarations', 'queue'],
  follows: ['record:visit', 'record:household', 'record:building', 'outbox'],
};
