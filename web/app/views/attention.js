/**
 * Show what needs the user: changes the server refused (with its reason and
 * its own record), edits merged with field losses, and a wiped store.
 */
import { formatTime, t } from '../i18n.js';
import { h } from '../ui/dom.js';
import { screen } from '../ui/screen.js';

/** Put a rejection code into plain words, with the server's detail. */
export function reasonText(changeResult) {
  const code = changeResult?.conflict?.code ?? 'unknown';
  const known = t(`reject.${code}`);
  const words = known === `reject.${code}` ? t('reject.unknown') : known;
  const detail = changeResult?.conflict?.detail;
  return detail ? `${words} (${detail})` : words;
}

function fieldList(fields) {
  const entries = Object.entries(fields ?? {});
  if (!entries.length) return null;
  return h('dl', { class: 'facts' },
    ...entries.flatMap(([name, value]) => [h('dt', {}, name), h('dd', {}, typeof value === 'string' ? value : JSON.stringify(value))]));
}

function rejectedCard(changeset, blockedCount, app) {
  const results = changeset.rejection?.changes ?? [];
  const faults = changeset.changes.map((change, i) => ({ change, result: results[i] }))
    .filter(({ result }) => result?.conflict?.code !== 'aborted');
  return h('li', { class: 'card' },
    h('h2', {}, t('attention.rejected_title', { time: formatTime(changeset.made_at) })),
    ...faults.map(({ change, result }) => h('div', { class: 'fault' },
      h('p', {}, h('strong', {}, reasonText(result))),
      h('p', {}, t('attention.you_tried')), fieldList(change.fields),
      result?.conflict?.record
        ? [h('p', {}, t('attention.server_has')), fieldList(result.conflict.record.fields)]
        : null)),
    blockedCount ? h('p', { class: 'notice' }, t('attention.blocking', { count: blockedCount })) : null,
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'primary', onclick: () => app.retryChangeset(changeset.id) }, t('attention.retry')),
      h('button', { type: 'button', class: 'danger', onclick: () => app.discardChangeset(changeset.id) }, t('attention.discard'))));
}

function mergedCard(item, app) {
  return h('li', { class: 'card' },
    h('h2', {}, t('attention.merged_title', { time: formatTime(item.at) })),
    h('p', {}, t('attention.merged_detail', { fields: item.lost_fields.join(', ') })),
    fieldList(Object.fromEntries(Object.entries(item.fields).filter(([name]) => item.lost_fields.includes(name)))),
    item.record?.type === 'task' ? h('p', {}, h('a', { href: `#/tasks/${encodeURIComponent(item.record.id)}` }, t('attention.open_record'))) : null,
    h('button', { type: 'button', onclick: () => app.dismissAttention(item.seq) }, t('common.dismiss')));
}

function wipedCard(notice, app) {
  return h('li', { class: 'card' },
    h('h2', {}, t('attention.wiped_title')),
    h('p', {}, t('attention.wiped_detail', { time: notice.at ? formatTime(notice.at) : '—' })),
    h('p', {}, h('a', { href: '#/settings' }, t('attention.import_link'))),
    h('button', { type: 'button', onclick: () => app.dismissWiped() }, t('common.dismiss')));
}

async function render(app) {
  const { rejected, blockedBy, merged, wiped } = await app.attentionItems();
  const cards = [
    wiped ? wipedCard(wiped, app) : null,
    ...rejected.map((changeset) => rejectedCard(changeset, blockedBy.get(changeset.id) ?? 0, app)),
    ...merged.map((item) => mergedCard(item, app)),
  ].filter(Boolean);
  return screen(t('attention.title'), { back: '/' },
    cards.length ? h('ul', { class: 'cards' }, ...cards) : h('p', { class: 'empty' }, t('attention.empty')));
}

export default { render, live: true };
