/** Words for group buying, shared by the supplies screens. */
import { fieldLabel, formatList, formatTime, language, t, valueLabel } from '../i18n.js';
import { addressOf, ORDER } from './rules.js';

export const orderStatus = (status) => valueLabel(ORDER, 'status', status);
export const channelLabel = (channel) => valueLabel(ORDER, 'channel', channel);
export const orderField = (field) => fieldLabel(ORDER, field);

/** Return a price in cents as money in the user's language ("¥68.00"). */
export function money(cents) {
  return new Intl.NumberFormat(language(), { style: 'currency', currency: 'CNY' }).format((cents ?? 0) / 100);
}

/** Return an order's lines as "蔬菜包 × 2, 肉蛋包 × 1". */
export function linesText(lines, packages) {
  return formatList((lines ?? []).map((line) => t('orders.line', { name: packages.get(line.package_id)?.fields.name ?? '?', qty: line.qty })));
}

/** Return a round's window in words: "orders until …, delivery …". */
export function windowText(round) {
  return t('supplies.window', { cutoff: formatTime(round.fields.cutoff_at), delivery: formatTime(round.fields.delivers_at) });
}

/** Return a round's name: its title or, without one, its cut-off. */
export const roundName = (round) => round.fields.title ?? t('supplies.round_of', { cutoff: formatTime(round.fields.cutoff_at) });

/** Return a household's address, or a plain "unknown household". */
export const homeText = (household, buildings) => (household ? addressOf(household, buildings) : t('orders.unknown_household'));

/** Index records by id. */
export const byId = (records) => new Map(records.map((record) => [record.id, record]));
