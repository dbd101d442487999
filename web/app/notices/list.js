/**
 * Read the notices in the user's language, offline (they are synced
 * records): pinned first; where a notice has no text in the user's language
 * its Chinese text is shown, saying so. Coordinators also see their drafts
 * and may write, edit and print.
 */
import { mayCreate, mayUpdateField } from '../declarations.js';
import { formatList, formatTime, language, LANGUAGE_NAMES, t } from '../i18n.js';
import { syncBadge } from '../ui/badge.js';
import { h } from '../ui/dom.js';
import { screen } from '../ui/screen.js';
import { noticeOrder, publishedNotices, TYPE } from './rules.js';
import { noticeText } from './show.js';

function item(deps, notice, compounds) {
  const reading = language();
  const { language: shownIn, nodes } = noticeText(notice, reading);
  const editable = mayUpdateField(deps.declarations, TYPE, deps.user.role, 'title');
  const { fields } = notice;
  return h('li', { class: `card notice-card${fields.pinned ? ' is-pinned' : ''}`, 'data-notice': notice.id },
    h('p', { class: 'notice-flags' },
      fields.pinned ? h('span', { class: 'badge' }, t('notices.pinned')) : null,
      fields.published ? null : h('span', { class: 'badge' }, t('notices.draft')),
      notice.sync === 'synced' ? null : syncBadge(notice.sync)),
    ...nodes,
    shownIn && shownIn !== reading
      ? h('p', { class: 'hint' }, t('notices.shown_in', { language: LANGUAGE_NAMES[shownIn] ?? shownIn })) : null,
    h('p', { class: 'hint' }, [
      fields.published_at ? t('notices.published_at', { time: formatTime(fields.published_at) }) : null,
      formatList((fields.compound_ids ?? []).map((id) => compounds.get(id)).filter(Boolean)),
    ].filter(Boolean).join(' · ')),
    h('div', { class: 'row' },
      h('a', { class: 'button', href: `#/notices/${encodeURIComponent(notice.id)}/print` }, t('notices.print')),
      editable ? h('a', { class: 'button', href: `#/notices/${encodeURIComponent(notice.id)}/edit` }, t('notices.edit')) : null));
}

async function render(deps) {
  const { declarations, records, user, names } = deps;
  const [notices, compounds] = await Promise.all([records.views(TYPE), names.compounds()]);
  const writer = mayCreate(declarations, TYPE, user.role);
  // Writers see their drafts too; everyone else only what is published.
  const shown = writer ? notices.filter((notice) => !notice.deleted).sort(noticeOrder) : publishedNotices(notices);
  return screen(t('section.notices'), { back: '/' },
    writer ? h('a', { class: 'button primary', href: '#/notices/new' }, t('notices.new')) : null,
    shown.length
      ? h('ul', { class: 'cards' }, ...shown.map((notice) => item(deps, notice, compounds)))
      : h('p', { class: 'empty' }, t('notices.empty')));
}

export default {
  render,
  uses: ['user', 'declarations', 'records', 'names'],
  follows: ['record:notice', 'record:compound', 'outbox', 'declarations'],
};
