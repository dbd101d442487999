/**
 * One round: its packages with the stock left (live), its orders with the
 * moves the declarations allow (a leader confirms after phoning, "phoned to
 * confirm" recorded), and the leader's tools: hotline order, chain list,
 * picking list, delivery tasks after the cut-off (the server makes them by
 * itself; the button asks at once), and the catalogue: packages added,
 * stock topped up by restocks (never edited).
 */
import { allowedMoves, mayCreate } from '../declarations.js';
import { actionLabel, t } from '../i18n.js';
import { syncBadge } from '../ui/badge.js';
import { h } from '../ui/dom.js';
import { field, screen } from '../ui/screen.js';
import { byId, channelLabel, homeText, linesText, money, orderStatus, roundName, windowText } from './format.js';
import { confirmChange, isOpen, ORDER, OrderInputError, packageChange, restockChange } from './rules.js';

const ORGANISERS = new Set(['team_leader', 'coordinator']);

/**
 * Return a form's submit handler: `build(formData)` makes the change, queued
 * with the toast `done`, then `then(change)`; a refusal (OrderInputError) is
 * shown in `error` and its box focused.
 */
export function submitting(deps, error, build, done, then = () => {}) {
  return async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    let change;
    try {
      change = build(new FormData(form));
    } catch (problem) {
      if (!(problem instanceof OrderInputError)) throw problem;
      error.textContent = t(problem.key, problem.params);
      form.querySelector(`[name="${CSS.escape(problem.field)}"]`)?.focus();
      return;
    }
    error.textContent = '';
    await deps.queue([change], done);
    then(change);
  };
}

/** A package's restock: a count added to its stock (an append-only record). */
function restockForm(deps, pkg) {
  const name = `restock-${pkg.id}`;
  const error = h('p', { class: 'error', role: 'alert' });
  const qty = h('input', { id: name, name, type: 'number', inputmode: 'numeric', min: 1, 'aria-label': `${pkg.fields.name} · ${t('field.restock.qty')}` });
  return h('form', { class: 'row restock', novalidate: true,
    onsubmit: submitting(deps, error, (data) => restockChange(pkg.id, data.get(name)), t('supplies.saved')) },
  qty, h('button', { type: 'submit' }, t('supplies.restock')), error);
}

function packageTable(deps, packages, restocks) {
  return h('table', { class: 'packages', id: 'packages' },
    h('thead', {}, h('tr', {}, ...['name', 'price_cents', 'stock'].map((f) => h('th', { scope: 'col' }, t(`field.package.${f}`))),
      restocks ? h('th', { scope: 'col' }, t('supplies.restock')) : null)),
    h('tbody', {}, ...packages.map((pkg) => h('tr', { 'data-package': pkg.id },
      h('th', { scope: 'row' }, pkg.fields.name, pkg.fields.contents ? h('small', { class: 'hint' }, ` ${pkg.fields.contents}`) : null),
      h('td', {}, money(pkg.fields.price_cents)),
      h('td', { class: 'stock' }, String(pkg.fields.stock)),
      restocks ? h('td', {}, restockForm(deps, pkg)) : null))));
}

/** The leader's form adding a package to the round: name, contents, price in yuan, stock. */
function packageForm(deps, round) {
  const box = (name, attrs = {}) => h('input', { id: `package-${name}`, name, autocomplete: 'off', ...attrs });
  const inputs = {
    name: box('name', { required: true }),
    contents: box('contents'),
    price: box('price', { inputmode: 'decimal', required: true }),
    stock: box('stock', { type: 'number', inputmode: 'numeric', min: 0, required: true }),
  };
  const error = h('p', { class: 'error', role: 'alert', id: 'package-error' });
  const labels = { name: t('field.package.name'), contents: t('common.optional', { label: t('field.package.contents') }),
    price: t('supplies.price_yuan'), stock: t('field.package.stock') };
  return h('form', { id: 'new-package', novalidate: true,
    onsubmit: submitting(deps, error, (data) => packageChange(round.id, Object.fromEntries(data)), t('supplies.saved')) },
  h('h2', {}, t('supplies.add_package')),
  ...Object.entries(inputs).map(([name, input]) => field(input.id, labels[name], input)),
  error,
  h('button', { type: 'submit', class: 'primary' }, t('supplies.add_package')));
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
    h('h2', {}, t('supplies.packages')), packageTable(deps, packages, mayCreate(declarations, 'restock', user.role)),
    mayCreate(declarations, 'package', user.role) ? packageForm(deps, round) : null,
    h('h2', {}, t('orders.count', { count: shown.length })),
    shown.length ? h('ul', { class: 'cards', id: 'orders' }, ...shown.map((o) => orderItem(deps, o, names))) : h('p', { class: 'empty' }, t('orders.empty')),
    organiser && !open ? h('section', {}, h('h2', {}, t('supplies.deliveries')), h('p', { class: 'hint' }, t('supplies.deliveries_hint')), ...deliveriesButton(deps, round)) : null);
}

export default {
  render,
  uses: ['user', 'declarations', 'records', 'queue', 'supplies'],
  follows: ['record:supply_round', 'record:package', 'record:order', 'outbox', 'declarations'],
};
