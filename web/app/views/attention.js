/**
 * Show what needs the user: changes the server refused (why, what they
 * tried, what the server has), edits merged with field losses, changes
 * lost when this device's store was wiped, and break-the-glass grants that
 * ended (their compound's records left the device; the outbox stayed).
 */
import { fieldLabel, formatList, formatTime, t, valueLabel } from '../i18n.js';
import { readable } from '../readable.js';
import { mayRetry, reasonFor } from '../rejections.js';
import { h } from '../ui/dom.js';
import { screen } from '../ui/screen.js';

function fieldList(deps, names, type, fields, only = null) {
  const entries = Object.entries(fields ?? {}).filter(([name]) => !only || only.includes(name));
  if (!entries.length) return null;
  return h('dl', { class: 'facts' }, ...entries.flatMap(([name, value]) => [
    h('dt', {}, fieldLabel(type, name)),
    h('dd', { class: 'prewrap' }, readable(deps, names, type, name, value)),
  ]));
}

function reasonText(deps, names, change, conflict, serverRecord) {
  const { key, params } = reasonFor(deps.declarations, change, conflict, serverRecord);
  const words = {};
  if (params.field) words.field = fieldLabel(params.type, params.field);
  if (params.current) words.current = valueLabel(params.type, params.field, params.current);
  if (params.target) words.target = valueLabel(params.type, params.field, params.target);
  if (params.holder != null) words.name = readable(deps, names, change.type, 'assignee_id', params.holder);
  return t(key, words);
}

function rejectedCard(deps, names, changeset, blockedCount, latest) {
  const results = changeset.rejection?.changes ?? [];
  const faults = changeset.changes.map((change, i) => ({ change, conflict: results[i]?.conflict }))
    .filter(({ conflict }) => conflict?.code !== 'aborted');
  const retry = mayRetry(deps.declarations, deps.user, faults, (type, id) => latest.get(`${type}:${id}`));
  return h('li', { class: 'card' },
    h('h2', {}, t('attention.rejected_title', { time: formatTime(changeset.made_at) })),
    ...faults.map(({ change, conflict }) => {
      const server = conflict?.record ?? latest.get(`${change.type}:${change.id}`);
      return h('div', { class: 'fault' },
        h('p', {}, h('strong', {}, reasonText(deps, names, change, conflict, server))),
        server?.fields?.title ? h('p', {}, t('attention.record', { title: server.fields.title })) : null,
        h('p', {}, t('attention.you_tried')), fieldList(deps, names, change.type, change.fields),
        server?.fields
          ? [h('p', {}, t('attention.server_has')), fieldList(deps, names, change.type, server.fields, Object.keys(change.fields ?? {}))]
          : null);
    }),
    blockedCount ? h('p', { class: 'notice' }, t('attention.blocking', { count: blockedCount })) : null,
    retry ? null : h('p', { class: 'hint' }, t('attention.cannot_retry')),
    h('div', { class: 'row' },
      retry ? h('button', { type: 'button', class: 'primary', onclick: () => deps.attention.retry(changeset.id) }, t('attention.retry')) : null,
      h('button', { type: 'button', class: retry ? 'danger' : 'primary', onclick: () => deps.attention.discard(changeset.id) },
        t(retry ? 'attention.discard' : 'attention.accept_server'))));
}

function mergedCard(deps, names, item) {
  const type = item.record?.type;
  return h('li', { class: 'card' },
    h('h2', {}, t('attention.merged_title', { time: formatTime(item.at) })),
    h('p', {}, t('attention.merged_detail', { fields: formatList(item.lost_fields.map((name) => fieldLabel(type, name))) })),
    fieldList(deps, names, type, item.fields, item.lost_fields),
    type === 'task' ? h('p', {}, h('a', { href: `#/tasks/${encodeURIComponent(item.record.id)}` }, t('attention.open_record'))) : null,
    h('button', { type: 'button', onclick: () => deps.attention.dismiss(item.seq) }, t('common.dismiss')));
}

function wipedCard(deps, notice) {
  return h('li', { class: 'card' },
    h('h2', {}, t('attention.wiped_title')),
    h('p', {}, t('attention.wiped_detail', { count: notice.count ?? 0, time: notice.at ? formatTime(notice.at) : '—' })),
    h('p', {}, h('a', { href: '#/settings' }, t('attention.import_link'))),
    h('button', { type: 'button', onclick: () => deps.attention.dismissWiped() }, t('common.dismiss')));
}

function grantEndedCard(deps, item) {
  return h('li', { class: 'card' },
    h('h2', {}, t('attention.grant_ended_title', { compound: item.compound_name ?? t('attention.grant_ended_elsewhere') })),
    h('p', {}, t('attention.grant_ended_detail', { count: item.queued ?? 0, time: formatTime(item.expires_at) })),
    h('button', { type: 'button', onclick: () => deps.attention.dismiss(item.seq) }, t('common.dismiss')));
}

async function render(deps) {
  const { rejected, blockedBy, merged, grantsEnded, wiped } = await deps.attention.items();
  const [compounds, buildings, people] = await Promise.all([deps.names.compounds(), deps.names.buildings(), deps.names.people()]);
  const names = { places: new Map([...compounds, ...buildings]), people };
  const latest = new Map();
  for (const change of rejected.flatMap((changeset) => changeset.changes)) {
    latest.set(`${change.type}:${change.id}`, await deps.attention.serverRecord(change.type, change.id));
  }
  const cards = [
    wiped ? wipedCard(deps, wiped) : null,
    ...rejected.map((changeset) => rejectedCard(deps, names, changeset, blockedBy.get(changeset.id) ?? 0, latest)),
    ...merged.map((item) => mergedCard(deps, names, item)),
    ...grantsEnded.map((item) => grantEndedCard(deps, item)),
  ].filter(Boolean);
  return screen(t('attention.title'), { back: '/' },
    cards.length ? h('ul', { class: 'cards' }, ...cards) : h('p', { class: 'empty' }, t('attention.empty')));
}

export default {
  render,
  uses: ['user', 'declarations', 'attention', 'names'],
  follows: ['outbox', 'attention', 'record:task', 'people', 'declarations'],
};
