/**
 * Today's testing: the open rounds in the user's scope, each with its
 * coverage per building (live: marks from every device arrive by sync);
 * coordinators open a round for a compound and a day, and close it.
 */
import { allowedMoves, mayCreate } from '../declarations.js';
import { actionLabel, naturalCompare, t, valueLabel } from '../i18n.js';
import { newId } from '../ids.js';
import { h } from '../ui/dom.js';
import { field, screen } from '../ui/screen.js';
import { coverage, marksByResident, TYPE } from './marks.js';
import { coverageBar } from './view.js';

const ROUND = 'test_round';

/** Today in the device's calendar, YYYY-MM-DD (the neighbourhood's day, for a device there). */
function today(now = new Date()) {
  return [now.getFullYear(), now.getMonth() + 1, now.getDate()].map((n) => String(n).padStart(2, '0')).join('-');
}

function openForm(deps, compounds) {
  const compound = h('select', { id: 'round-compound', name: 'compound_id' },
    ...[...compounds].sort(([, a], [, b]) => naturalCompare(a, b)).map(([id, name]) => h('option', { value: id }, name)));
  const day = h('input', { id: 'round-date', name: 'date', type: 'date', value: today(), required: true });
  const kind = h('select', { id: 'round-kind', name: 'kind' },
    ...['pcr', 'antigen'].map((value) => h('option', { value }, valueLabel(ROUND, 'kind', value))));
  async function submit(event) {
    event.preventDefault();
    const fields = { compound_id: compound.value, date: day.value, kind: kind.value, status: 'open' };
    await deps.queue([{ type: ROUND, id: newId(), op: 'create', base_version: 0, fields }], t('testing.round_opened'));
  }
  return h('details', { class: 'card' }, h('summary', {}, t('testing.open_round')),
    h('form', { onsubmit: submit },
      field('round-compound', t('field.test_round.compound_id'), compound),
      field('round-date', t('field.test_round.date'), day),
      field('round-kind', t('field.test_round.kind'), kind),
      h('button', { type: 'submit', class: 'primary' }, t('testing.open_round'))));
}

function roundCard(deps, round, names, buildings, residents, byResident) {
  const mine = buildings.filter((b) => b.fields.compound_id === round.fields.compound_id)
    .sort((a, b) => (a.fields.number ?? 0) - (b.fields.number ?? 0));
  const close = allowedMoves(deps.declarations, ROUND, round, deps.user).find((move) => move.to === 'closed');
  const closeRound = async () => {
    await deps.queue([{ type: ROUND, id: round.id, op: 'update', base_version: round.version ?? 0, fields: { status: 'closed' } }],
      t('testing.round_closed'));
  };
  const title = t('testing.round_title', {
    compound: names.get(round.fields.compound_id) ?? '', date: round.fields.date, kind: valueLabel(ROUND, 'kind', round.fields.kind),
  });
  const all = coverage(residents.filter((r) => r.fields.compound_id === round.fields.compound_id), byResident);
  return h('section', { class: 'card', 'aria-label': title },
    h('h2', {}, title),
    coverageBar(all, title),
    h('ul', { class: 'cards' }, ...mine.map((building) => {
      const counts = coverage(residents.filter((r) => r.fields.building_id === building.id), byResident);
      return h('li', {},
        h('a', { class: 'card-link', href: `#/testing/${encodeURIComponent(round.id)}/buildings/${encodeURIComponent(building.id)}` },
          building.fields.name),
        coverageBar(counts, building.fields.name));
    })),
    close ? h('button', { type: 'button', class: 'danger', onclick: closeRound }, actionLabel(ROUND, close.action)) : null);
}

async function render(deps) {
  const { records, names, user, declarations } = deps;
  const [rounds, compounds] = await Promise.all([records.views(ROUND), names.compounds()]);
  const open = rounds.filter((round) => round.fields.status === 'open').sort((a, b) => b.fields.date.localeCompare(a.fields.date));
  const [buildings, residents, marks] = open.length
    ? await Promise.all([records.views('building'), records.views('resident'), records.views(TYPE)])
    : [[], [], []];
  return screen(t('testing.title'), { back: '/' },
    mayCreate(declarations, ROUND, user.role) ? openForm(deps, compounds) : null,
    open.length
      ? open.map((round) => roundCard(deps, round, compounds, buildings, residents, marksByResident(marks, round.id)))
      : h('p', { class: 'empty' }, t('testing.no_rounds')));
}

export default {
  render,
  uses: ['records', 'names', 'user', 'declarations', 'queue'],
  follows: ['record:test_round', 'record:test_result', 'record:resident', 'outbox', 'declarations'],
};
