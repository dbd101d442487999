/**
 * Group buying on the device: order changes, what a refusal leaves, picking lists.
 *
 * Pure: no IO, no DOM. What may be ordered, how much and until when is the
 * server's to judge (sync/supplies.py: stock, cut-off, household limit);
 * this module only builds the changes and puts the server's answers and the
 * synced records into words a person reads.
 */
import { newId, uuid5 } from '../ids.js';

export const ORDER = 'order';
/** An order that holds its packages (the server's TAKING states) and is not yet delivered. */
const OPEN = new Set(['placed', 'confirmed']);

/** A refused input: `{key, params}` names the message, `field` the box. */
export class OrderInputError extends RangeError {
  constructor(field, key, params = {}) {
    super(key);
    this.name = 'OrderInputError';
    this.field = field;
    this.key = key;
    this.params = params;
  }
}

/** Return a household's order id in a round, as the server derives it (sync.supplies.order_id). */
export const orderIdOf = (roundId, householdId) => uuid5(roundId, householdId);

/** Return whether a round takes orders at `now` (a Date): between opening and cut-off. */
export function isOpen(round, now) {
  const at = now.getTime();
  return Date.parse(round.fields.opens_at) <= at && at <= Date.parse(round.fields.cutoff_at);
}

/** Sort rounds: open first, then by cut-off, the latest first. */
export function roundOrder(now) {
  return (a, b) => Number(isOpen(b, now)) - Number(isOpen(a, now))
    || Date.parse(b.fields.cutoff_at) - Date.parse(a.fields.cutoff_at);
}

const TIMES = ['opens_at', 'cutoff_at', 'delivers_at'];

/** Return `text` as a whole number from `min` to `max`, or null when it is not one. */
function whole(text, min, max) {
  const value = Number(String(text ?? '').trim());
  return String(text ?? '').trim() && Number.isInteger(value) && value >= min && value <= max ? value : null;
}

/**
 * Build the change placing (or changing) a household's order.
 *
 * `quantities` maps package id → a count (0 or empty: none). A household has
 * one order per round: when the device already knows it, the change updates
 * it (placing it again if it was cancelled); otherwise it creates it under
 * the id every device derives, so two devices ordering for the same
 * household meet in one order on the server.
 *
 * @throws {OrderInputError} no household, no package, or a count that is not a whole number from 0 to `max`.
 */
export async function orderChange({ round, householdId, quantities, channel, existing = null, notes = '', max = 99 }) {
  if (!householdId) throw new OrderInputError('household_id', 'orders.input.household_required');
  const lines = [];
  for (const [packageId, raw] of Object.entries(quantities)) {
    const text = String(raw ?? '').trim();
    if (!text || text === '0') continue;
    const qty = whole(text, 0, max);
    if (qty === null) {
      throw new OrderInputError(`qty-${packageId}`, 'orders.input.bad_quantity', { max });
    }
    lines.push({ package_id: packageId, qty });
  }
  if (!lines.length) throw new OrderInputError('lines', 'orders.input.nothing_ordered');
  const id = await orderIdOf(round.id, householdId);
  const note = notes.trim() ? { notes: notes.trim() } : {};
  if (existing && !existing.deleted) {
    const fields = { lines, ...note };
    if (existing.fields.status === 'cancelled') fields.status = 'placed';
    return { type: ORDER, id, op: 'update', base_version: existing.version ?? 0, fields };
  }
  return {
    type: ORDER, id, op: 'create', base_version: 0,
    fields: { supply_round_id: round.id, household_id: householdId, channel, lines, status: 'placed', ...note },
  };
}

/**
 * Build the change opening a supply round (sync/supplies.py): `input` holds
 * title, compound_ids [id …], opens_at, cutoff_at, delivers_at (datetime-local
 * values, device time; in that order, as the server checks) and
 * household_limit ('' for none); `leaderId` a user id or null.
 *
 * @throws {OrderInputError} no compound, a missing time, times out of order, a bad limit.
 */
export function roundChange(input, leaderId = null, id = newId()) {
  const compounds = [...(input.compound_ids ?? [])];
  if (!compounds.length) throw new OrderInputError('compound_ids', 'supplies.input.compound_required');
  const times = {};
  for (const name of TIMES) {
    const at = Date.parse(input[name] ?? '');
    if (Number.isNaN(at)) throw new OrderInputError(name, 'supplies.input.time_required');
    times[name] = at;
  }
  if (times.cutoff_at <= times.opens_at) throw new OrderInputError('cutoff_at', 'supplies.input.cutoff_after_opening');
  if (times.delivers_at < times.cutoff_at) throw new OrderInputError('delivers_at', 'supplies.input.delivery_after_cutoff');
  const rawLimit = String(input.household_limit ?? '').trim();
  const limit = rawLimit ? whole(rawLimit, 1, 99) : null;
  if (rawLimit && limit === null) throw new OrderInputError('household_limit', 'supplies.input.whole', { min: 1, max: 99 });
  const title = String(input.title ?? '').trim();
  const fields = { compound_ids: compounds, title: title || null, leader_id: leaderId, household_limit: limit };
  for (const name of TIMES) fields[name] = new Date(times[name]).toISOString();
  return { type: 'supply_round', id, op: 'create', base_version: 0, fields };
}

/**
 * Build the change listing a package in a round: `price` in yuan as typed
 * ("39.9"), `stock` what there is to sell.
 *
 * @throws {OrderInputError} no name, a price that is not an amount of money, a bad stock.
 */
export function packageChange(roundId, { name, contents = '', price, stock }, id = newId()) {
  const title = String(name ?? '').trim();
  if (!title) throw new OrderInputError('name', 'supplies.input.name_required');
  const yuan = String(price ?? '').trim();
  if (!/^\d{1,5}(\.\d{1,2})?$/.test(yuan)) throw new OrderInputError('price', 'supplies.input.bad_price');
  const count = whole(stock, 0, 1_000_000);
  if (count === null) throw new OrderInputError('stock', 'supplies.input.whole', { min: 0, max: 1_000_000 });
  const [units, cents = ''] = yuan.split('.');
  const fields = {
    supply_round_id: roundId, name: title, contents: String(contents ?? '').trim() || null,
    price_cents: Number(units) * 100 + Number(cents.padEnd(2, '0')), stock: count,
  };
  return { type: 'package', id, op: 'create', base_version: 0, fields };
}

/**
 * Build a restock of a package: stock is never edited, a restock adds to it.
 *
 * @throws {OrderInputError} a quantity that is not a whole number from 1 up.
 */
export function restockChange(packageId, qty, id = newId()) {
  const count = whole(qty, 1, 1_000_000);
  if (count === null) throw new OrderInputError(`restock-${packageId}`, 'supplies.input.whole', { min: 1, max: 1_000_000 });
  return { type: 'restock', id, op: 'create', base_version: 0, fields: { package_id: packageId, qty: count } };
}

/** Return the change confirming an order after the leader phoned (`phoned`: they did). */
export function confirmChange(order, phoned) {
  return { type: ORDER, id: order.id, op: 'update', base_version: order.version ?? 0, fields: { status: 'confirmed', phoned: Boolean(phoned) } };
}

/**
 * Say what a refused order could still have: per line, the package's name,
 * what was asked and what is left now (from the synced packages).
 *
 * Returns [{name, wanted, left}] for the lines the stock cannot cover, or, if
 * none is short any more (stock came back), every line with what is left.
 */
export function whatIsLeft(lines, packages) {
  const rows = (lines ?? []).map((line) => {
    const pkg = packages.get(line.package_id);
    return { name: pkg?.fields.name ?? '?', wanted: line.qty, left: pkg?.fields.stock ?? 0 };
  });
  const short = rows.filter((row) => row.wanted > row.left);
  return short.length ? short : rows;
}

/** Return a household's address as people say it: "12号楼 1单元 502室" (building names are data). */
export function addressOf(household, buildings) {
  const building = buildings.get(household?.fields.building_id);
  return `${building?.fields.name ?? '?'} ${household?.fields.unit ?? '?'}单元 ${household?.fields.room ?? '?'}室`;
}

const byNumber = (a, b) => String(a).localeCompare(String(b), 'zh-CN', { numeric: true });

/**
 * Build a round's picking list: its confirmed orders by building, unit and
 * room, each with what to pack, and the totals per package.
 *
 * Returns {buildings: [{id, name, units: [{unit, rooms: [{room, householdId,
 * orderId, items: [{packageId, name, qty}]}]}]}], totals: Map packageId → qty}.
 * Orders of households the device does not know are listed under "?" rather
 * than dropped.
 */
export function pickingList(orders, households, buildings, packages) {
  const tree = new Map();
  const totals = new Map();
  for (const order of orders) {
    if (order.deleted || order.fields.status !== 'confirmed') continue;
    const home = households.get(order.fields.household_id);
    const buildingId = home?.fields.building_id ?? order.fields.building_id ?? '?';
    const unit = home?.fields.unit ?? '?';
    const units = tree.get(buildingId) ?? tree.set(buildingId, new Map()).get(buildingId);
    const rooms = units.get(unit) ?? units.set(unit, []).get(unit);
    const items = order.fields.lines.map((line) => {
      totals.set(line.package_id, (totals.get(line.package_id) ?? 0) + line.qty);
      return { packageId: line.package_id, name: packages.get(line.package_id)?.fields.name ?? '?', qty: line.qty };
    });
    rooms.push({ room: home?.fields.room ?? '?', householdId: order.fields.household_id, orderId: order.id, items });
  }
  const list = [...tree].map(([id, units]) => ({
    id,
    name: buildings.get(id)?.fields.name ?? '?',
    number: buildings.get(id)?.fields.number ?? Infinity,
    units: [...units].sort(([a], [b]) => byNumber(a, b))
      .map(([unit, rooms]) => ({ unit, rooms: rooms.sort((a, b) => byNumber(a.room, b.room)) })),
  })).sort((a, b) => a.number - b.number || byNumber(a.name, b.name));
  return { buildings: list, totals };
}

/** Return whether an order still counts (placed or confirmed, not cancelled or delivered). */
export const isOpenOrder = (order) => OPEN.has(order.fields.status);

/** Problems that make a line no order at all: skipped unless the leader takes it. */
const SKIPPED_FIRST = new Set(['not_an_entry', 'repeated', 'edited']);

/**
 * Start the review of a read chain list (server/chain_list.py): ready lines
 * are taken, lines that are no order (a header, a repost, a version edited
 * later) skipped, the rest wait for the leader to pick or skip.
 *
 * Returns Map line → {take: true | false | null (waiting), household}.
 */
export function firstDecisions(entries) {
  return new Map(entries.map((entry) => {
    if (entry.ready) return [entry.line, { take: true, household: entry.household_id }];
    if (entry.problems.some((p) => SKIPPED_FIRST.has(p.code))) return [entry.line, { take: false, household: null }];
    return [entry.line, { take: null, household: null }];
  }));
}

/** Return the lines still waiting for a decision, and the entries to order. */
export function review(entries, decisions) {
  const waiting = entries.filter((entry) => {
    const d = decisions.get(entry.line);
    return d.take === null || (d.take && (!d.household || !entry.lines.length));
  });
  const taken = entries.filter((entry) => decisions.get(entry.line).take && decisions.get(entry.line).household && entry.lines.length);
  return { waiting, taken };
}

