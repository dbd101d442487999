/**
 * Draw the badge of a record that has not synced: a word and a symbol, never
 * colour alone. A synced record carries no badge (it would be noise on every card).
 */
import { t } from '../i18n.js';
import { h } from './dom.js';

const SYMBOLS = { pending: '↑', rejected: '!' };

export function syncBadge(state) {
  return h('span', { class: `badge sync-${state}` },
    h('span', { 'aria-hidden': 'true' }, SYMBOLS[state] ?? '?'), ' ', t(`sync.${state}`));
}
