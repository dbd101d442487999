/**
 * The orders tile: the rounds taking orders, the orders of the user's scope,
 * and every order the server refused, with why and what is still available
 * in plain words (never the server's English detail).
 */
import { reasonFor } from '../rejections.js';
import { fieldLabel, formatList, formatTime, t, valueLabel } from '../i18n.js';
import { h } from '../ui/dom.js';
import { screen } from '../ui/screen.js';
import { byId, homeText, linesText, roundName, windowText } from './format.js';
import { orderItem } from './round.js';
import { isOpen, isOpenOrder, ORDER, whatIsLeft } from './rules.js';

/** Say why an order was refused and, for stock and cut-off, what the user can still do. */
export function refusalText(declarations, change, conflict, { packages, rounds }) {
  const { key, params } = reasonFor(declarations, change, conflict, conflict?.record ?? null);
  const named = {};
  if (params.field) named.field = fieldLabel(params.type, params.field);
  if (params.current) named.current = valueLabel(params.type, params.field, params.current);
  if (params.target) named.target = valueLabel(params.type, params.field, params.target);
  const words = [t(key, named)];
  if (conflict?.code === 'out_of_stock') {
    words.push(t('orders.left_now', {
      items: formatList(whatIsLeft(change.fields.lines, packages).map((row) => t('orders.left_item', row))),
    }));
  }
  if (conflict?.code === 'round_closed') {
    const round = rounds.get(change.fields.supply_round_id);
    if (round) words.push(t('orders.closed_at', { time: formatTime(round.fields.cutoff_at) }));
  }
  return words.join(' ');
}

function refusedCard(deps, changeset, change, conflict, names) {
  const home = names.households.get(change.fields.household_id) ?? null;
  return h('li', { class: 'card refused', 'data-refused': change.id },
    h('p', {}, h('strong', {}, homeText(home, names.buildings))),
    change.fields.lines ? h('p', {}, linesText(change.fields.lines, names.packages)) : null,
    h('p', { class: 'error' }, refusalText(deps.declarations, change, conflict, names)),
    h('div', { class: 'row' },
      h('button', { type: 'button', onclick: () => deps.attention.discard(changeset.id) }, t('orders.dismiss_refusal'))));
}

async function render(deps) {
  const { records, attention } = deps;
  const now = new Date();
  const [rounds, packages, orders, households, buildings, items] = await Promise.all([
    records.views('supply_round'), records.views('package'), records.views(ORDER),
    records.views('household'), records.views('building'), attention.items(),
  ]);
  const names = { households: byId(households), buildings: byId(buildings), packages: byId(packages), rounds: byId(rounds) };
  const open = rounds.filter((round) => !round.deleted && isOpen(round, now));
  const refused = items.rejected.flatMap((changeset) => changeset.changes.map((change, i) => [changeset, change, changeset.rejection?.changes?.[i]?.conflict]))
    .filter(([, change, conflict]) => change.type === ORDER && conflict && conflict.code !== 'aborted');
  const live = orders.filter((order) => !order.deleted && (isOpenOrder(order) || order.sync !== 'synced'))
    .sort((a, b) => homeText(names.households.get(a.fields.household_id), names.buildings)
      .localeCompare(homeText(names.households.get(b.fields.household_id), names.buildings), 'zh-CN', { numeric: true }));
  return screen(t('section.orders'), { back: '/' },
    refused.length ? h('section', { 'aria-labelledby': 'refused-title' },
      h('h2', { id: 'refused-title' }, t('orders.refused', { count: refused.length })),
      h('ul', { class: 'cards', id: 'refused' }, ...refused.map(([cs, change, conflict]) => refusedCard(deps, cs, change, conflict, names)))) : null,
    h('h2', {}, t('orders.open_rounds')),
    open.length
      ? h('ul', { class: 'task-list' }, ...open.map((round) => h('li', { class: 'task priority-2' },
        h('a', { href: `#/supplies/${encodeURIComponent(round.id)}/order`, class: 'order-in-round' },
          h('span', { class: 'task-title' }, t('orders.order_in', { round: roundName(round) })),
          h('span', { class: 'task-meta' }, windowText(round))))))
      : h('p', { class: 'empty' }, t('orders.no_open_round')),
    h('h2', {}, t('orders.count', { count: live.length })),
    live.length ? h('ul', { class: 'cards', id: 'orders' }, ...live.map((order) => orderItem(deps, order, names))) : h('p', { class: 'empty' }, t('orders.empty')));
}

export default {
  render,
  uses: ['user', 'declarations', 'records', 'queue', 'attention'],
  follows: ['record:supply_round', 'record:package', 'record:order', 'outbox', 'attention', 'declarations'],
};
