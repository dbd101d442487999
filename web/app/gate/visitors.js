/**
 * Register visitors and couriers at the post: name, phone, purpose and the
 * household they visit (found by its short address, 12-3-502). The guard
 * sees the visitors they registered (the server sends a guard no others);
 * coordinators see all of them.
 */
import { checkValue, enumValues } from '../declarations.js';
import { t } from '../i18n.js';
import { newId } from '../ids.js';
import { h } from '../ui/dom.js';
import { field, screen } from '../ui/screen.js';
import { postName } from './station.js';

const TYPE = 'visitor';

/** Return the household of a compound at a short address (building-unit-room), or null. */
export function householdAt(address, households, buildings) {
  const [number, unit, room] = address.trim().split('-');
  const building = buildings.find((b) => String(b.fields.number) === number);
  if (!building || !unit || !room) return null;
  return households.find((x) => x.fields.building_id === building.id && x.fields.unit === unit && x.fields.room === room) ?? null;
}

async function render(deps) {
  const { declarations, records } = deps;
  const compounds = (await records.views('compound')).filter((c) => !c.deleted);
  if (!compounds.length) return screen(t('section.visitors'), { back: '/' }, h('p', {}, t('gate.no_compound')));
  const compound = compounds[0];
  const label = (name) => t(`field.${TYPE}.${name}`);
  const name = h('input', { id: 'visitor-name', name: 'name', autocomplete: 'off' });
  const phone = h('input', { id: 'visitor-phone', name: 'phone', type: 'tel', autocomplete: 'off' });
  const purpose = h('select', { id: 'visitor-purpose', name: 'purpose' },
    ...enumValues(declarations, TYPE, 'purpose').map((p) => h('option', { value: p }, t(`value.${TYPE}.purpose.${p}`))));
  const host = h('input', { id: 'visitor-host', name: 'host', autocomplete: 'off' });
  const error = h('p', { class: 'error', role: 'alert', id: 'visitor-error' });

  async function onSubmit(event) {
    event.preventDefault();
    const fields = { compound_id: compound.id, post: postName(), name: name.value.trim(), purpose: purpose.value };
    if (phone.value.trim()) fields.phone = phone.value.trim();
    for (const [key, input] of [['name', name], ['phone', phone]]) {
      const problem = checkValue(declarations, TYPE, key, fields[key]);
      if (problem) {
        error.textContent = t(`gate.${problem.key}`, { ...problem.params, field: label(key) });
        input.focus();
        return;
      }
    }
    const [households, buildings] = await Promise.all([
      records.views('household', { compound_id: compound.id }), records.views('building', { compound_id: compound.id }),
    ]);
    const home = householdAt(host.value, households, buildings);
    if (!home) {
      error.textContent = t('gate.no_household');
      host.focus();
      return;
    }
    fields.host_household_id = home.id;
    await deps.queue([{ type: TYPE, id: newId(), op: 'create', base_version: 0, fields }], t('gate.visitor_registered'));
    event.currentTarget.reset?.();
  }

  async function onLeft(visitor) {
    await deps.queue([{ type: TYPE, id: visitor.id, op: 'update', base_version: visitor.version ?? 0, fields: { left_at: new Date().toISOString() } }],
      t('gate.visitor_left'));
  }

  const here = (await records.views(TYPE, { compound_id: compound.id }))
    .filter((v) => !v.deleted && !v.fields.left_at)
    .sort((a, b) => String(b.fields.arrived_at ?? '').localeCompare(String(a.fields.arrived_at ?? '')));
  return screen(t('section.visitors'), { back: '/' },
    h('form', { onsubmit: onSubmit, novalidate: true },
      field('visitor-name', label('name'), name),
      field('visitor-phone', t('common.optional', { label: label('phone') }), phone),
      field('visitor-purpose', label('purpose'), purpose),
      field('visitor-host', label('host_household_id'), host, t('gate.address_hint')),
      error,
      h('button', { type: 'submit', class: 'primary' }, t('gate.register'))),
    h('h2', {}, t('gate.visitors_here', { count: here.length })),
    h('ul', { class: 'gate-visitors' }, ...here.map((v) => h('li', {},
      h('span', {}, `${v.fields.name} · ${t(`value.${TYPE}.purpose.${v.fields.purpose}`)}`),
      h('button', { type: 'button', onclick: () => onLeft(v) }, t('gate.left'))))));
}

export default { render, uses: ['declarations', 'records', 'queue'], follows: ['record:visitor', 'declarations'] };
