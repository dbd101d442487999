/**
 * Order for a household: a volunteer on the resident's behalf (proxy), a
 * team leader taking a hotline call. Works offline: the order is queued and
 * judged by the server when it lands (stock, cut-off); a refusal is
 * explained on the orders screen.
 */
import { naturalCompare, t } from '../i18n.js';
import { h } from '../ui/dom.js';
import { field, screen } from '../ui/screen.js';
import { byId, money, orderField, roundName, windowText } from './format.js';
import { isOpen, ORDER, orderChange, OrderInputError, orderIdOf } from './rules.js';

/** The channel an order comes by, from who places it (a screen choice). */
const CHANNEL = Object.freeze({ volunteer: 'proxy', team_leader: 'hotline', coordinator: 'hotline' });

const sortedBy = (key) => (a, b) => naturalCompare(String(key(a)), String(key(b)));
const options = (pairs, chosen) => pairs.map(([value, text]) => h('option', { value, selected: value === chosen }, text));

// Kept while the app is open, for one user (`forget`, see router.js): the place
// being worked through, building by building.
const NOWHERE = { building: '', unit: '', household: '' };
const chosen = { ...NOWHERE };

function forget() {
  Object.assign(chosen, NOWHERE);
}

async function render(deps, { id }) {
  const { records, user } = deps;
  const round = await records.view('supply_round', id);
  if (!round || round.deleted) return screen(t('supplies.missing'), { back: '/orders' }, h('p', {}, t('supplies.missing')));
  const back = `/supplies/${encodeURIComponent(id)}`;
  if (!isOpen(round, new Date())) return screen(roundName(round), { back }, h('p', {}, t('orders.round_not_open'), ' ', windowText(round)));
  const [packages, buildingList, householdList] = await Promise.all([
    records.views('package', { supply_round_id: id }), records.views('building'), records.views('household'),
  ]);
  const compounds = new Set(round.fields.compound_ids);
  const buildings = buildingList.filter((b) => compounds.has(b.fields.compound_id)).sort((a, b) => (a.fields.number ?? 0) - (b.fields.number ?? 0));
  const homes = householdList.filter((home) => compounds.has(home.fields.compound_id));
  if (!buildings.some((b) => b.id === chosen.building)) Object.assign(chosen, { building: buildings[0]?.id ?? '', unit: '', household: '' });

  const building = h('select', { id: 'order-building', name: 'building' }, ...options(buildings.map((b) => [b.id, b.fields.name]), chosen.building));
  const unit = h('select', { id: 'order-unit', name: 'unit' });
  const room = h('select', { id: 'order-household', name: 'household_id' });
  const quantities = packages.map((pkg) => h('input', {
    id: `qty-${pkg.id}`, name: `qty-${pkg.id}`, type: 'number', inputmode: 'numeric', min: 0, max: round.fields.household_limit ?? 99, value: '0',
  }));
  const notes = h('textarea', { id: 'order-notes', name: 'notes', rows: 2 });
  const error = h('p', { class: 'error', role: 'alert', id: 'order-error' });
  const existingNote = h('p', { class: 'hint', id: 'order-existing' });

  function fillUnits() {
    const units = [...new Set(homes.filter((home) => home.fields.building_id === building.value).map((home) => home.fields.unit))].sort(sortedBy((u) => u));
    unit.replaceChildren(...options(units.map((u) => [u, t('orders.unit', { unit: u })]), chosen.unit));
    fillRooms();
  }
  function fillRooms() {
    const rooms = homes.filter((home) => home.fields.building_id === building.value && home.fields.unit === unit.value).sort(sortedBy((home) => home.fields.room));
    room.replaceChildren(h('option', { value: '' }, t('orders.choose_room')), ...options(rooms.map((home) => [home.id, t('orders.room', { room: home.fields.room })]), chosen.household));
    showExisting();
  }
  // Quantities typed since the household was chosen are the user's: a late lookup keeps them.
  let typed = false;
  quantities.forEach((input) => input.addEventListener('input', () => { typed = true; }));
  async function showExisting() {
    Object.assign(chosen, { building: building.value, unit: unit.value, household: room.value });
    typed = false;
    const household = room.value;
    const existing = household ? await records.view(ORDER, await orderIdOf(id, household)) : null;
    if (room.value !== household) return; // another household was chosen meanwhile
    existingNote.textContent = existing && !existing.deleted ? t('orders.has_order') : '';
    if (typed) return;
    const lines = new Map((existing?.fields.lines ?? []).map((line) => [line.package_id, line.qty]));
    quantities.forEach((input, i) => { input.value = String(lines.get(packages[i].id) ?? 0); });
  }
  building.addEventListener('change', () => { chosen.unit = ''; chosen.household = ''; fillUnits(); });
  unit.addEventListener('change', () => { chosen.household = ''; fillRooms(); });
  room.addEventListener('change', showExisting);
  fillUnits();

  async function onSubmit(event) {
    event.preventDefault();
    const given = Object.fromEntries(packages.map((pkg, i) => [pkg.id, quantities[i].value]));
    const existing = room.value ? await records.view(ORDER, await orderIdOf(id, room.value)) : null;
    let change;
    try {
      change = await orderChange({
        round, householdId: room.value, quantities: given, channel: CHANNEL[user.role] ?? 'proxy', existing, notes: notes.value,
        max: round.fields.household_limit ?? 99,
      });
    } catch (problem) {
      if (!(problem instanceof OrderInputError)) throw problem;
      error.textContent = t(problem.key, problem.params);
      document.getElementById(problem.field === 'household_id' ? 'order-household' : problem.field)?.focus();
      return;
    }
    await deps.queue([change], t('orders.queued'));
    deps.navigate('/orders');
  }

  const names = byId(packages);
  return screen(t(user.role === 'volunteer' ? 'orders.new_proxy' : 'orders.new_hotline'), { back },
    h('p', { class: 'lead' }, `${roundName(round)} · ${windowText(round)}`),
    h('form', { onsubmit: onSubmit, novalidate: true, id: 'order-form' },
      field(building.id, orderField('building_id'), building),
      field(unit.id, t('orders.unit_label'), unit),
      field(room.id, orderField('household_id'), room),
      existingNote,
      h('fieldset', {}, h('legend', {}, orderField('lines')),
        ...quantities.map((input, i) => field(input.id, `${packages[i].fields.name} · ${money(packages[i].fields.price_cents)}`, input,
          t('orders.left', { count: names.get(packages[i].id).fields.stock })))),
      field(notes.id, t('common.optional', { label: orderField('notes') }), notes),
      error,
      h('button', { type: 'submit', class: 'primary' }, t('orders.submit'))));
}

export default { render, forget, uses: ['user', 'records', 'queue', 'navigate'], follows: ['record:supply_round', 'record:package'] };
