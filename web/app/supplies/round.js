/**
 * One round: its packages with the stock left (live), its orders with the
 * moves the declarations allow (a leader confirms after phoning, "phoned to
 * confirm" recorded), and the leader's tools: hotline order, chain list,
 * picking list, delivery tasks after the cut-off.
 */
import { allowedMoves, mayCreate } from '../declarations.js';
import { actionLabel, t } from '../i18n.js';
import { syncBadge } from '../ui/badge.js';
import { h } from '../ui/dom.js';
import { screen } from '../ui/screen.js';
import { byId, channelLabel, homeText, linesText, money, orderStatus, roundName, windowText } from './format.js';
import { confirmChange, isOpen, ORDER } from './rules.js';

const ORGANISERS = new Set(['team_leader', 'coordinator']);

function packageTable(packages) {
  return h('table', { class: 'packages', id: 'packages' },
    h('thead', {}, h('tr', {}, ...['name', 'price_cents', 'stock'].map((f) => h('th', { scope: 'col' }, t(`field.package.${f}`))))),
    h('tbody', {}, ...packages.map((pkg) => h('tr', { 'data-package': pkg.id },
      h('th', { scope: 'row' }, pkg.fields.name, pkg.fields.contents ? h('small', { class: 'hint' }, ` ${pkg.fields.contents}`) : null),
      h('td', {}, money(pkg.fields.price_cents)),
      h('td', { class: 'stock' }, String(pkg.fields.stock))))));
}

/** The moves on an order: confirm carries the "phoned to confirm" box. */
function orderMoves(deps, order) {
  return allowedMoves(deps.declarations, ORDER, order, deps.user).map((move) => {
    if (move.action === 'confirm') {
      const box = h('input', { type: 'checkbox', name: 'phoned', id: `phoned-${order.id}`, checked: true });
      return h('form', { class: 'row action-confirm', onsubmit: async (event) => {
        event.preventDefault();
        await deps.queue([confirmChange(order, box.checked)], t('orders.confirmed'));
      } },
      h('label', { for: box.id }, box, ` ${t('orders.phoned')}`),
      h('button', { type: 'submit', class: 'primary' }, actionLabel(ORDER, 'confirm')));
    }
    const change = { type: ORDER, id: order.id, op: 'update', base_version: order.version ?? 0, fields: { status: move.to } };
    return h('button', { type: 'button', class: move.action === 'cancel' ? 'danger' : '', 'data-action': move.action,
      onclick: () => deps.queue([change], t('orders.moved', { status: orderStatus(move.to) }), { undoable: move.action === 'cancel' }) },
    actionLabel(ORDER, move.action));
  });
}

export function orderItem(deps, order, { households, buildings, packages }) {
  const f = order.fields;
  return h('li', { class: `card order status-${f.status}`, 'data-order': order.id },
    h('p', {}, h('strong', {}, homeText(households.get(f.household_id), buildings)), ' ',
      order.sync === 'synced' ? null : syncBadge(order.sync)),
    h('p', {}, linesText(f.lines, packages)),
    h('p', { class: 'task-meta' }, [orderStatus(f.status), channelLabel(f.channel), f.phoned ? t('orders.phoned_done') : null]
      .filter(Boolean).join(' · ')),
    f.notes ? h('p', { class: 'prewrap' }, f.notes) : null,
    h('div', { class: 'row' }, ...orderMoves(deps, order)));
}

function deliveriesButton(deps, round) {
  const result = h('p', { 'aria-live': 'polite', id: 'deliveries-result' });
  const run = async () => {
    try {
      const made = await deps.supplies.makeDeliveries(round.id);
      result.textContent = t('supplies.deliveries_made', { created: made.created.length, updated: made.updated.length });
    } catch (error) {
      result.textContent = t('supplies.deliveries_failed', { detail: error.problem?.detail ?? error.message });
    }
  };
  return [h('button', { type: 'button', id: 'make-deliveries', onclick: run }, t('supplies.make_deliveries')), result];
}

async function render(deps, { id }) {
  const { records, user, declarations } = deps;
  const round = await records.view('supply_round', id);
  if (!round || round.deleted) return screen(t('supplies.missing'), { back: '/supplies' }, h('p', {}, t('supplies.missing')));
  const [packages, orders, households, buildings] = await Promise.all([
    records.views('package', { supply_round_id: id }), records.views(ORDER, { supply_round_id: id }),
    records.views('household'), records.views('building'),
  ]);
  const names = { households: byId(households), buildings: byId(buildings), packages: byId(packages) };
  const organiser = ORGANISERS.has(user.role);
  const open = isOpen(round, new Date());
  const base = `#/supplies/${encodeURIComponent(id)}`;
  const shown = orders.filter((o) => !o.deleted).sort((a, b) => homeText(names.households.get(a.fields.household_id), names.buildings)
    .localeCompare(homeText(names.households.get(b.fields.household_id), names.buildings), 'zh-CN', { numeric: true }));
  return screen(roundName(round), { back: '/supplies' },
    h('p', { class: 'lead' }, `${t(open ? 'supplies.open' : 'supplies.closed')} · ${windowText(round)}`),
    h('div', { class: 'row' },
      open && mayCreate(declarations, ORDER, user.role) ? h('a', { class: 'button primary', href: `${base}/order` }, t(organiser ? 'orders.new_hotline' : 'orders.new_proxy')) : null,
      open && organiser ? h('a', { class: 'button', href: `${base}/chain` }, t('chain.title')) : null,
      organiser ? h('a', { class: 'button', href: `${base}/picking` }, t('picking.title')) : null),
    h('h2', {}, t('supplies.packages')), packageTable(packages),
    h('h2', {}, t('orders.count', { count: shown.length })),
    shown.length ? h('ul', { class: 'cards', id: 'orders' }, ...shown.map((o) => orderItem(deps, o, names))) : h('p', { class: 'empty' }, t('orders.empty')),
    organiser && !open ? h('section', {}, h('h2', {}, t('supplies.deliveries')), h('p', { class: 'hint' }, t('supplies.deliveries_hint')), ...deliveriesButton(deps, round)) : null);
}

export default {
  render,
  uses: ['user', 'declarations', 'records', 'queue', 'supplies'],
  follows: ['record:supply_round', 'record:package', 'record:order', 'outbox', 'declarations'],
};
