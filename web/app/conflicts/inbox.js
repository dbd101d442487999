/**
 * The coordinator's conflict inbox: each value that lost a concurrent edit,
 * side by side with the value kept, in plain words; put it back in one tap
 * (one changeset: the record's update and the conflict resolved), or keep
 * what is there. Works from the device store and the outbox, so offline too.
 */
import { fieldLabel, formatTime, t, typeLabel } from '../i18n.js';
import { personName, readable, recordName } from '../readable.js';
import { syncBadge } from '../ui/badge.js';
import { h } from '../ui/dom.js';
import { screen } from '../ui/screen.js';
import { mayResolve, mayRestore, resolveChange, restoreChanges, TYPE, unresolved } from './rules.js';

/** Record types whose screens a card links to (route prefix by type). */
const SCREENS = Object.freeze({ task: '/tasks/' });

function side(deps, names, devices, conflict, which) {
  const { fields } = conflict;
  const device = fields[`${which}_device`];
  return h('div', { class: `conflict-side is-${which}` },
    h('h4', {}, t(`conflicts.${which}`)),
    h('p', { class: 'conflict-value prewrap' }, readable(deps, names, fields.record_type, fields.field, fields[`${which}_value`])),
    h('p', { class: 'hint' }, t('conflicts.who_when', {
      name: personName(deps.user, names.people, fields[`${which}_by`]),
      time: formatTime(fields[`${which}_made_at`]),
      device: (device && devices.get(device)) || t('conflicts.unknown_device'),
    })));
}

function card(deps, names, devices, conflict, record) {
  const { fields } = conflict;
  const type = fields.record_type;
  const name = recordName(record, names);
  const now = record?.fields?.[fields.field];
  const changedSince = record && !record.deleted && JSON.stringify(now ?? null) !== JSON.stringify(fields.kept_value ?? null);
  const restorable = mayRestore(deps.declarations, deps.user, conflict, record);
  const restore = () => deps.queue(restoreChanges(conflict, record), t('conflicts.restored'));
  const keep = () => deps.queue([resolveChange(conflict)], t('conflicts.kept_message'));
  return h('li', { class: 'card conflict', 'data-conflict': conflict.id },
    h('h2', {}, name ? t('common.record_title', { type: typeLabel(type), name }) : typeLabel(type)),
    h('h3', {}, fieldLabel(type, fields.field)),
    conflict.sync === 'synced' ? null : syncBadge(conflict.sync),
    h('div', { class: 'conflict-sides' }, side(deps, names, devices, conflict, 'kept'), side(deps, names, devices, conflict, 'lost')),
    changedSince ? h('p', { class: 'notice' }, t('conflicts.changed_since', { value: readable(deps, names, type, fields.field, now) })) : null,
    record && !record.deleted && SCREENS[type]
      ? h('p', {}, h('a', { href: `#${SCREENS[type]}${encodeURIComponent(record.id)}` }, t('conflicts.open_record'))) : null,
    restorable ? null : h('p', { class: 'hint' }, t('conflicts.cannot_restore')),
    mayResolve(deps.declarations, deps.user)
      ? h('div', { class: 'row' },
        restorable ? h('button', { type: 'button', class: 'primary', onclick: restore }, t('conflicts.restore')) : null,
        h('button', { type: 'button', onclick: keep }, t('conflicts.keep')))
      : null);
}

async function render(deps) {
  const { names: lookup, records } = deps;
  const [conflicts, compounds, buildings, people, devices] = await Promise.all([
    records.views(TYPE), lookup.compounds(), lookup.buildings(), lookup.people(), lookup.devices(),
  ]);
  const names = { places: new Map([...compounds, ...buildings]), people };
  const waiting = unresolved(conflicts);
  const about = await Promise.all(waiting.map((c) => records.view(c.fields.record_type, c.fields.record_id)));
  return screen(t('section.conflicts'), { back: '/' },
    h('p', { class: 'lead' }, t('conflicts.lead')),
    waiting.length
      ? [h('p', { class: 'count' }, t('conflicts.count', { count: waiting.length })),
        h('ul', { class: 'cards' }, ...waiting.map((conflict, i) => card(deps, names, devices, conflict, about[i])))]
      : h('p', { class: 'empty' }, t('conflicts.empty')));
}

export default {
  render,
  uses: ['user', 'declarations', 'records', 'names', 'queue'],
  // The records conflicts are about: the "changed since" line and restoring read their latest state.
  follows: ['record:conflict', 'outbox', 'people', 'declarations',
    ...['task', 'resident', 'household', 'order', 'med_request', 'supply_round', 'package', 'notice'].map((type) => `record:${type}`)],
};
