/**
 * The audit trail (coordinators): who changed what and when, searched by
 * household, person, kind of record and text, from the server
 * (`GET /api/v1/audit`, server/audit.py). It needs the network: the trail
 * lives on the server, not on the device.
 */
import { NetworkError } from '../api.js';
import { fieldLabel, formatList, formatTime, naturalCompare, t, typeLabel } from '../i18n.js';
import { readable, recordName } from '../readable.js';
import { h } from '../ui/dom.js';
import { field, screen } from '../ui/screen.js';
import { sortedChoices } from '../tasks/format.js';

// Kept while the app is open, so coming back, or a live redraw of the screen,
// shows the same search and what it found — to the user who searched only
// (`forget`, see router.js). `generation` tells a page that arrives after a
// newer search was sent (or after the user changed) to stay out of it.
const NO_FILTERS = { q: '', user_id: '', record_type: '', building: '', household_id: '' };
const NOTHING_FOUND = { entries: [], cursor: null, more: false, state: 'idle', problem: '' };
const chosen = { ...NO_FILTERS };
const found = { generation: 0, ...NOTHING_FOUND };

/** Forget the search and what it found (the router calls it when the user changes). */
function forget() {
  Object.assign(chosen, NO_FILTERS);
  Object.assign(found, { generation: found.generation + 1, ...NOTHING_FOUND });
}

function select(id, label, pairs, value, onchange = null) {
  return field(id, label, h('select', { id, name: id, onchange },
    ...pairs.map(([optionValue, text]) => h('option', { value: optionValue, selected: optionValue === value }, text))));
}

function entryCard(deps, names, entry, record) {
  const { record_type: type } = entry;
  const name = recordName(record, names);
  const household = entry.household_id && type !== 'household' ? names.households.get(entry.household_id) : null;
  const fields = Object.entries(entry.fields ?? {});
  return h('li', { class: 'card audit-entry' },
    h('h2', {}, name ? t('common.record_title', { type: typeLabel(type), name }) : typeLabel(type)),
    household ? h('p', {}, household) : null,
    h('p', { class: 'hint' }, t('audit.who_when', {
      name: String(entry.user.id) === String(deps.user.id) ? t('attention.you') : entry.user.display_name,
      time: formatTime(entry.made_at ?? entry.received_at),
      device: entry.device ?? t('conflicts.unknown_device'),
    })),
    entry.deleted ? h('p', {}, t('audit.deleted')) : null,
    fields.length
      ? h('dl', { class: 'facts' }, ...fields.flatMap(([name, value]) => [
        h('dt', {}, fieldLabel(type, name)), h('dd', { class: 'prewrap' }, readable(deps, names, type, name, value))]))
      : entry.deleted ? null : h('p', { class: 'hint' }, t('audit.overwritten')),
    entry.lost_fields.length
      ? h('p', { class: 'hint' }, t('audit.lost_fields', { fields: formatList(entry.lost_fields.map((name) => fieldLabel(type, name))) }))
      : null);
}

async function householdChoices(records, buildingId) {
  if (!buildingId) return [];
  const households = await records.views('household', { building_id: buildingId });
  return households.map((household) => [household.id, `${household.fields.unit}-${household.fields.room}`])
    .sort(([, a], [, b]) => naturalCompare(a, b));
}

async function render(deps) {
  const { declarations, names: lookup, records, audit } = deps;
  const [compounds, buildings, people, buildingRecords, householdRecords] = await Promise.all([
    lookup.compounds(), lookup.buildings(), lookup.people(), records.views('building'), records.views('household'),
  ]);
  const buildingOf = new Map(buildingRecords.map((b) => [b.id, b]));
  const households = new Map(householdRecords.map((household) => {
    const building = buildingOf.get(household.fields.building_id);
    const place = [compounds.get(household.fields.compound_id), building?.fields.name].filter(Boolean).join(' ');
    return [household.id, `${place} ${household.fields.unit}-${household.fields.room}`.trim()];
  }));
  const names = { places: new Map([...compounds, ...buildings]), people, households };
  const buildingChoices = [...buildingOf.values()]
    .map((b) => [b.id, `${compounds.get(b.fields.compound_id) ?? ''} ${b.fields.name}`.trim()])
    .sort(([, a], [, b]) => naturalCompare(a, b));
  const householdSelect = select('audit-household', t('audit.household'),
    [['', t('audit.any_household')], ...await householdChoices(records, chosen.building)], chosen.household_id);

  async function onBuilding(event) {
    chosen.building = event.target.value;
    chosen.household_id = '';
    const control = householdSelect.querySelector('select');
    control.replaceChildren(...[['', t('audit.any_household')], ...await householdChoices(records, chosen.building)]
      .map(([value, text]) => h('option', { value }, text)));
  }

  const queryOf = () => ({ q: chosen.q.trim(), user_id: chosen.user_id, record_type: chosen.record_type, household_id: chosen.household_id });

  /** Fetch the page after `cursor` into `found`, then redraw the screen from it. */
  async function load(cursor) {
    const generation = found.generation;
    Object.assign(found, { state: 'searching', more: false });
    await deps.redraw();
    let update;
    try {
      const page = await audit.search({ ...queryOf(), limit: 50, cursor });
      update = { entries: [...found.entries, ...page.entries], cursor: page.cursor, more: page.more, state: 'done' };
    } catch (error) {
      update = { state: 'failed', problem: error instanceof NetworkError ? t('audit.offline') : t('audit.failed', { detail: error.message }) };
    }
    if (generation !== found.generation) return;
    Object.assign(found, update);
    await deps.redraw();
  }

  async function onSubmit(event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    Object.assign(chosen, {
      q: String(form.get('audit-q') ?? ''), user_id: String(form.get('audit-user') ?? ''),
      record_type: String(form.get('audit-type') ?? ''), building: String(form.get('audit-building') ?? ''),
      household_id: String(form.get('audit-household') ?? ''),
    });
    Object.assign(found, { generation: found.generation + 1, entries: [], cursor: null, more: false, problem: '' });
    await load(undefined);
  }

  const known = await Promise.all(found.entries.map((entry) => records.view(entry.record_type, entry.record_id)));
  const results = h('div', { id: 'audit-results', 'aria-live': 'polite' },
    found.entries.length ? h('ul', { class: 'cards' }, ...found.entries.map((entry, i) => entryCard(deps, names, entry, known[i]))) : null,
    found.state === 'searching' ? h('p', { class: 'hint', role: 'status' }, t('audit.searching')) : null,
    found.state === 'failed' ? h('p', { class: 'hint', role: 'status' }, found.problem) : null,
    found.state === 'done' && !found.entries.length ? h('p', { class: 'empty' }, t('audit.empty')) : null,
    found.state === 'done' && found.more ? h('button', { type: 'button', onclick: () => load(found.cursor) }, t('audit.more')) : null);

  const typeChoices = Object.keys(declarations?.types ?? {}).map((type) => [type, typeLabel(type)]).sort(([, a], [, b]) => naturalCompare(a, b));
  const peopleChoices = sortedChoices(new Map([...people].map(([id, person]) => [id, person.name])));
  return screen(t('section.audit'), { back: '/' },
    h('p', { class: 'lead' }, t('audit.lead')),
    h('form', { class: 'filters', role: 'search', onsubmit: onSubmit },
      field('audit-q', t('audit.text'), h('input', { id: 'audit-q', name: 'audit-q', type: 'search', value: chosen.q, autocomplete: 'off' })),
      select('audit-user', t('audit.person'), [['', t('audit.anyone')], ...peopleChoices], chosen.user_id),
      select('audit-type', t('audit.type'), [['', t('audit.any_type')], ...typeChoices], chosen.record_type),
      select('audit-building', t('audit.building'), [['', t('audit.any_building')], ...buildingChoices], chosen.building, onBuilding),
      householdSelect,
      h('button', { type: 'submit', class: 'primary' }, t('audit.search'))),
    results);
}

export default { render, forget, uses: ['user', 'declarations', 'records', 'names', 'audit', 'redraw'], follows: ['people', 'declarations'] };
