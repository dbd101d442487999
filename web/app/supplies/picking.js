/**
 * A round's picking list: what to pack for whom, by building and unit, from
 * the confirmed orders; printable (styles.css "print": one building a page,
 * no app chrome), and taken as CSV or XLSX: the picking_list export of this
 * round (`?supply_round_id=`, sync-contract.md "Exports").
 */
import { formatTime, t } from '../i18n.js';
import { h } from '../ui/dom.js';
import { screen } from '../ui/screen.js';
import { FORMATS } from '../exports/download.js';
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

/** Buttons that save this round's picking list as a file, with a status line. */
function downloads(exports, roundId) {
  const status = h('span', { id: 'picking-status', role: 'status', 'aria-live': 'polite' });
  const save = (format) => async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    status.textContent = t('exports.preparing');
    try {
      await exports.save('picking_list', format, { supply_round_id: roundId }, () => {});
      status.textContent = t('exports.done');
    } catch (error) {
      status.textContent = t('exports.failed', { detail: error.message });
    } finally {
      button.disabled = false;
    }
  };
  return [...FORMATS.map((format) => h('button', { type: 'button', id: `picking-${format}`, onclick: save(format) },
    t(`exports.format.${format}`))), status];
}

async function render({ records, exports }, { id }) {
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
      h('button', { type: 'button', class: 'primary', id: 'print', onclick: () => globalThis.print() }, t('picking.print')),
      ...downloads(exports, id)),
    h('table', { class: 'picking-totals', id: 'picking-totals' },
      h('caption', {}, t('picking.totals')),
      h('tbody', {}, ...[...list.totals].map(([packageId, qty]) => h('tr', { 'data-package': packageId },
        h('th', { scope: 'row' }, names.get(packageId)?.fields.name ?? '?'), h('td', {}, String(qty)))))),
    list.buildings.length ? list.buildings.map(buildingPage) : h('p', { class: 'empty' }, t('picking.empty')));
}

export default { render, uses: ['records', 'exports'], follows: ['record:order', 'record:package'] };
