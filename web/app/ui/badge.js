/** Draw a record's sync badge: a word and a symbol, never colour alone. */
import { t } from '../i18n.js';
import { h } from './dom.js';

const SYMBOLS = { synced: '✓', pending: '↑', rejected: '!' };

export function syncBadge(state) {
  return h('span', { class: `badge sync-${state}` },
    h('span', { 'aria-hidden': 'true' }, SYMBOLS[state] ?? '?'), ' ', t(`sync.${state}`));
}
