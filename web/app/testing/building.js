/**
 * Mark the residents of one building in a round, unit by unit and floor by
 * floor: one tap per outcome, a flag for help registering, and "only who is
 * still missing" one tap away.
 */
import { t, valueLabel } from '../i18n.js';
import { enumValues } from '../declarations.js';
import { syncBadge } from '../ui/badge.js';
import { h } from '../ui/dom.js';
import { screen } from '../ui/screen.js';
import { doorOrder, units } from '../screening/walk.js';
import { coverage, markChange, marksByResident, TYPE } from './marks.js';
import { coverageBar } from './view.js';

// Kept while the app is open, for one user (`forget`, see router.js): a volunteer
// who chose "only missing" keeps it unit after unit.
const chosen = { missingOnly: false };

function forget() {
  chosen.missingOnly = false;
}

function residentRow(deps, round, resident, mark, home) {
  const mark_ = async (fields, message) => {
    const change = await markChange(deps.declarations, round, resident, mark, fields);
    await deps.queue([change], message);
  };
  const outcome = mark?.fields.outcome ?? null;
  const id = `help-${resident.id}`;
  return h('li', { class: 'mark' },
    h('span', { class: 'mark-name' }, `${home.fields.room} · ${resident.fields.name}`, mark && mark.sync !== 'synced' ? [' ', syncBadge(mark.sync)] : null),
    h('div', { class: 'mark-buttons', role: 'group', 'aria-label': resident.fields.name },
      ...enumValues(deps.declarations, TYPE, 'outcome').map((value) => h('button', {
        type: 'button', 'aria-pressed': String(value === outcome),
        onclick: () => mark_({ outcome: value }, t('testing.marked', { name: resident.fields.name, outcome: valueLabel(TYPE, 'outcome', value) })),
      }, valueLabel(TYPE, 'outcome', value)))),
    mark ? h('label', { class: 'choice', for: id },
      h('input', { type: 'checkbox', id, checked: Boolean(mark.fields.needs_registration_help),
        onchange: (event) => mark_({ needs_registration_help: event.target.checked }, t('testing.help_saved', { name: resident.fields.name })) }),
      h('span', {}, t('field.test_result.needs_registration_help'))) : null);
}

async function render(deps, { round: roundId, id }) {
  const { records } = deps;
  const [round, building, households, residents, marks] = await Promise.all([
    records.view('test_round', roundId), records.view('building', id), records.views('household', { building_id: id }),
    records.views('resident', { building_id: id }), records.views(TYPE, { building_id: id }),
  ]);
  if (!round || !building) return screen(t('screening.missing'), { back: '/testing' }, h('p', {}, t('screening.missing_detail')));
  const byResident = marksByResident(marks, round.id);
  const homes = new Map(households.map((home) => [home.id, home]));
  const peopleOf = new Map();
  for (const resident of residents) {
    const list = peopleOf.get(resident.fields.household_id) ?? [];
    list.push(resident);
    peopleOf.set(resident.fields.household_id, list);
  }
  const toggle = async () => {
    chosen.missingOnly = !chosen.missingOnly;
    await deps.redraw();
  };
  return screen(building.fields.name, { back: '/testing' },
    coverageBar(coverage(residents, byResident), building.fields.name),
    round.fields.status === 'open' ? null : h('p', { class: 'notice' }, t('testing.round_is_closed')),
    h('button', { type: 'button', class: 'big', 'aria-pressed': String(chosen.missingOnly), onclick: toggle },
      t(chosen.missingOnly ? 'testing.show_everyone' : 'testing.show_missing')),
    ...units(households).map(([unit, unitHomes]) => {
      const people = doorOrder(unitHomes).flatMap((home) => peopleOf.get(home.id) ?? []);
      const shown = chosen.missingOnly ? people.filter((r) => !byResident.has(r.id)) : people;
      const label = t('screening.unit', { unit });
      return h('section', { class: 'unit', 'aria-label': label },
        h('h2', {}, label),
        coverageBar(coverage(people, byResident), label),
        shown.length
          ? h('ol', { class: 'marks' }, ...shown.map((r) => residentRow(deps, round, r, byResident.get(r.id), homes.get(r.fields.household_id))))
          : h('p', { class: 'empty' }, t('testing.none_missing')));
    }));
}

export default {
  forget,
  render,
  uses: ['records', 'declarations', 'queue', 'redraw'],
  follows: ['record:test_result', 'record:test_round', 'record:resident', 'outbox'],
};
