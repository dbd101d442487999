/**
 * A round's picking list: what to pack for whom, by building and unit, from
 * the confirmed orders; printable (styles.css "print": one building a page,
 * no app chrome). The same list as a file is the picking_list export.
 */
import { formatTime, t } from '../i18n.js';
import { h } from '../ui/dom.js';
import { screen } from '../ui/screen.js';
import { byId, roundName } from './format.js';
import { pickingList } from './rules.js';

function buildingPage(building) {
  return h('section', { class: 'picking-building' },
    h('h2', {}, building.name),
    ...building.units.map(({ unit, rooms }) => h('table', { class: 'picking' },
      h('caption', {}, t('orders.unit', { unit })),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('picking.room')), h('th', { scope: 'col' }, t('picking.items')), h('th', { scope: 'col' }, t('picking.packed')))),
      h('tbody', {}, ...rooms.map((room) => h('tr', {},
        h('th', { scope: 'row' }, room.room),
        h('td', {}, room.items.map((item) => t('orders.line', item)).join('、')),
        h('td', { class: 'tick' }, '☐')))))));
}

async function render({ records }, { id }) {
  const round = await records.view('supply_round', id);
  const back = `/supplies/${encodeURIComponent(id)}`;
  if (!round || round.deleted) return screen(t('supplies.missing'), { back: '/supplies' });
  const [orders, households, buildings, packages] = await Promise.all([
    records.views('order', { supply_round_id: id }), records.views('household'), records.views('building'),
    records.views('package', { supply_round_id: id }),
  ]);
  const names = byId(packages);
  const list = pickingList(orders, byId(households), byId(buildings), names);
  return screen(t('picking.title'), { back },
    h('p', { class: 'lead' }, t('picking.lead', { round: roundName(round), delivery: formatTime(round.fields.delivers_at) })),
    h('p', { class: 'no-print row' },
      h('button', { type: 'button', class: 'primary', id: 'print', onclick: () => globalThis.print() }, t('picking.print'))),
    h('table', { class: 'picking-totals', id: 'picking-totals' },
      h('caption', {}, t('picking.totals')),
      h('tbody', {}, ...[...list.totals].map(([packageId, qty]) => h('tr', { 'data-package': packageId },
        h('th', { scope: 'row' }, names.get(packageId)?.fields.name ?? '?'), h('td', {}, String(qty)))))),
    list.buildings.length ? list.buildings.map(buildingPage) : h('p', { class: 'empty' }, t('picking.empty')));
}

export default { render, uses: ['records'], follows: ['record:order', 'record:package'] };
