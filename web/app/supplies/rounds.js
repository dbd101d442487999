/** List the supply rounds the user may see: the open ones first. */
import { mayCreate } from '../declarations.js';
import { t } from '../i18n.js';
import { h } from '../ui/dom.js';
import { screen } from '../ui/screen.js';
import { roundName, windowText } from './format.js';
import { isOpen, roundOrder } from './rules.js';

/** One round as a list item linking to it. */
export function roundItem(round, now) {
  return h('li', { class: `task ${isOpen(round, now) ? 'priority-2' : 'is-final'}` },
    h('a', { href: `#/supplies/${encodeURIComponent(round.id)}` },
      h('span', { class: 'task-title' }, roundName(round)),
      h('span', { class: 'task-meta' }, `${t(isOpen(round, now) ? 'supplies.open' : 'supplies.closed')} · ${windowText(round)}`)));
}

async function render({ records, declarations, user }) {
  const now = new Date();
  const rounds = (await records.views('supply_round')).filter((r) => !r.deleted).sort(roundOrder(now));
  return screen(t('supplies.title'), { back: '/' },
    mayCreate(declarations, 'supply_round', user.role) ? h('a', { class: 'button primary', href: '#/supplies/new', id: 'new-round-link' }, t('supplies.new')) : null,
    rounds.length
      ? h('ul', { class: 'task-list', id: 'rounds' }, ...rounds.map((round) => roundItem(round, now)))
      : h('p', { class: 'empty' }, t('supplies.no_rounds')));
}

export default { render, uses: ['records', 'declarations', 'user'], follows: ['record:supply_round', 'outbox', 'declarations'] };
