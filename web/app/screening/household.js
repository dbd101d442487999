/**
 * Screen one household: who is home, the outcome, needs, a note. Each save
 * is a visit queued offline; the next door of the stairwell opens by itself.
 * Below: the household's status and its visit history (who, when).
 */
import { fieldLabel, formatList, formatTime, language, t, valueLabel } from '../i18n.js';
import { enumValues } from '../declarations.js';
import { syncBadge } from '../ui/badge.js';
import { h } from '../ui/dom.js';
import { field, screen } from '../ui/screen.js';
import { NEEDS, nextDoor, readNeeds, statusOf, TYPE, visitChange, VisitInputError, visitsByHousehold } from './walk.js';
import { address } from './view.js';

/** Languages a translator is most often asked for here (a screen choice; named by Intl). */
const TRANSLATOR_LANGUAGES = Object.freeze(['en', 'ja', 'ko', 'fr', 'de', 'ru', 'es', 'ar']);

/** Household id → building id, of the stairwells walked since the app opened. */
const buildingOf = new Map();
let displayNames = null; // {language, names}: made once per language, Intl objects are slow to make

function languageName(tag) {
  if (displayNames?.language !== language()) {
    displayNames = { language: language(), names: new Intl.DisplayNames([language()], { type: 'language', fallback: 'code' }) };
  }
  try {
    return displayNames.names.of(tag) ?? tag;
  } catch {
    return tag; // not a well-formed language tag
  }
}

function needLabel(need) {
  const { needs, language: tag } = readNeeds([need]);
  return needs.length ? t(`screening.need.${needs[0]}`) : t('screening.needs_language', { language: languageName(tag) });
}

function history(visits, people) {
  if (!visits.length) return h('p', { class: 'empty' }, t('screening.history_empty'));
  return h('ol', { class: 'visit-history' }, ...visits.map((visit) => h('li', {},
    h('span', {}, t('screening.history_item', {
      when: formatTime(visit.fields.visited_at),
      who: people.get(String(visit.fields.visited_by))?.name ?? t('screening.someone'),
      outcome: valueLabel(TYPE, 'outcome', visit.fields.outcome),
    })),
    visit.fields.needs?.length ? h('span', { class: 'visit-needs' }, ` · ${formatList(visit.fields.needs.map(needLabel))}`) : null,
    visit.fields.notes ? h('p', { class: 'prewrap hint' }, visit.fields.notes) : null,
    visit.sync === 'synced' ? null : [' ', syncBadge(visit.sync)])));
}

function choice(name, value, label, checked, type = 'radio') {
  const id = `visit-${name}-${value}`;
  return h('label', { class: 'choice', for: id },
    h('input', { type, id, name, value, checked }), h('span', {}, label));
}

function form(deps, household, residents, onSaved) {
  const outcomes = enumValues(deps.declarations, TYPE, 'outcome');
  const present = h('input', { id: 'visit-present', name: 'present', type: 'number', inputmode: 'numeric', min: 0, max: 100, value: String(residents.length) });
  const step = (delta) => () => { present.value = String(Math.max(0, Number(present.value || 0) + delta)); };
  const error = h('p', { class: 'error', role: 'alert', id: 'visit-error' });
  async function submit(event) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    let change;
    try {
      change = visitChange(deps.declarations, household, {
        outcome: data.get('outcome'), present: data.get('present'), needs: data.getAll('needs'),
        language: data.get('language'), notes: data.get('notes'),
      });
    } catch (problem) {
      if (!(problem instanceof VisitInputError)) throw problem;
      error.textContent = t(`task.${problem.problem.key}`, { ...problem.problem.params, field: fieldLabel(TYPE, problem.field) });
      event.currentTarget.querySelector(`[name="${problem.field}"]`)?.focus();
      return;
    }
    await onSaved(change);
  }
  return h('form', { class: 'visit-form', onsubmit: submit, novalidate: true },
    h('fieldset', { class: 'choices outcomes' }, h('legend', {}, fieldLabel(TYPE, 'outcome')),
      ...outcomes.map((outcome) => choice('outcome', outcome, valueLabel(TYPE, 'outcome', outcome), outcome === 'answered'))),
    field('visit-present', fieldLabel(TYPE, 'present'), h('div', { class: 'stepper' },
      h('button', { type: 'button', onclick: step(-1), 'aria-label': t('screening.fewer') }, '−'),
      present,
      h('button', { type: 'button', onclick: step(1), 'aria-label': t('screening.more') }, '+'))),
    h('fieldset', { class: 'choices needs' }, h('legend', {}, fieldLabel(TYPE, 'needs')),
      ...NEEDS.map((need) => choice('needs', need, t(`screening.need.${need}`), false, 'checkbox'))),
    field('visit-language', t('common.optional', { label: t('screening.translator_language') }),
      h('select', { id: 'visit-language', name: 'language' },
        h('option', { value: '' }, t('screening.no_language')),
        ...TRANSLATOR_LANGUAGES.map((tag) => h('option', { value: tag }, languageName(tag))))),
    field('visit-notes', t('common.optional', { label: fieldLabel(TYPE, 'notes') }),
      h('textarea', { id: 'visit-notes', name: 'notes', rows: 2 })),
    error,
    h('button', { type: 'submit', class: 'primary' }, t('screening.save')));
}

async function render(deps, { id }) {
  const { records, names } = deps;
  // Walking a stairwell, the building is known from the door before: read
  // everything at once rather than the household first (bench section "field").
  const known = buildingOf.get(id);
  const reads = (buildingId) => Promise.all([
    records.view('building', buildingId), records.views('household', { building_id: buildingId }),
    records.views(TYPE, { building_id: buildingId }), records.views('resident', { building_id: buildingId }), names.people(),
  ]);
  const [household, early] = await Promise.all([records.view('household', id), known ? reads(known) : null]);
  if (!household || household.deleted) {
    return screen(t('screening.missing'), { back: '/screening' }, h('p', {}, t('screening.missing_detail')));
  }
  const buildingId = household.fields.building_id;
  const [building, neighbours, visits, residents, people] = known === buildingId ? early : await reads(buildingId);
  for (const neighbour of neighbours) buildingOf.set(neighbour.id, buildingId);
  const byHousehold = visitsByHousehold(visits);
  const own = byHousehold.get(id) ?? [];
  const living = residents.filter((resident) => resident.fields.household_id === id);
  const back = `/screening/buildings/${encodeURIComponent(buildingId)}`;
  async function saved(change) {
    const after = new Map(byHousehold).set(id, [{ fields: change.fields }, ...own]);
    const next = nextDoor(neighbours, id, after);
    // The next door opens while the visit is being queued: the volunteer is
    // already on the landing (the queue's own redraws leave that screen alone).
    deps.navigate(next ? `/screening/households/${encodeURIComponent(next.id)}` : back);
    // Its reads go first (in navigate's microtask), not behind the queue's write.
    await null;
    await deps.queue([change], next
      ? t('screening.saved_next', { room: household.fields.room, next: next.fields.room })
      : t('screening.saved_unit_done', { unit: household.fields.unit }));
  }
  const noAnswer = () => saved(visitChange(deps.declarations, household, { outcome: 'no_answer' }));
  const status = statusOf(own);
  return screen(address(household, building?.fields.name ?? ''), { back },
    h('p', { class: `household-status is-${status}` }, t(`screening.status.${status}`)),
    living.length
      ? h('ul', { class: 'residents' }, ...living.map((resident) => h('li', {}, resident.fields.name,
        resident.fields.needs?.length ? ` · ${formatList(resident.fields.needs.map((need) => valueLabel('resident', 'needs', need)))}` : '')))
      : null,
    h('button', { type: 'button', class: 'big no-answer', onclick: noAnswer }, t('screening.no_answer_next')),
    form(deps, household, living, saved),
    h('h2', {}, t('screening.history')),
    history(own, people));
}

export default {
  render,
  uses: ['records', 'names', 'declarations', 'queue', 'navigate'],
  // Not record:visit: a save moves on to the next door at once, and redrawing
  // this one first would double the cost of a save (bench section "field").
  // Others' visits show when the screen is opened again.
  follows: ['record:household', 'record:resident', 'people'],
};
