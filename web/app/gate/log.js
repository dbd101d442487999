/**
 * The coordinators' gate log, live: the alerts the server raised (a fever, a
 * pass denied again and again, one pass at two posts), in and out per hour
 * at each post today, and the latest scans. Redrawn when gate events or
 * alerts arrive (over Socket.IO, like every record).
 */
import { t } from '../i18n.js';
import { h } from '../ui/dom.js';
import { screen } from '../ui/screen.js';
import { localDay, NEIGHBOURHOOD_OFFSET_MINUTES } from './decide.js';

/** How many of the latest scans the screen lists. */
const LATEST = 50;

/**
 * Count today's scans per post and local hour: post → hour → {in, out}.
 * Pure: the node test checks it.
 */
export function countsByHour(events, day, offsetMinutes) {
  const counts = new Map();
  for (const { fields } of events) {
    if (localDay(fields.scanned_at, offsetMinutes) !== day) continue;
    const hour = new Date(Date.parse(fields.scanned_at) + offsetMinutes * 60_000).getUTCHours();
    const post = counts.get(fields.post) ?? new Map();
    const slot = post.get(hour) ?? { in: 0, out: 0 };
    slot[fields.direction] += 1;
    post.set(hour, slot);
    counts.set(fields.post, post);
  }
  return counts;
}

const timeOf = (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

function alertItem(alert, deps) {
  const { fields } = alert;
  const where = fields.posts?.length ? fields.posts.join(' / ') : fields.post;
  return h('li', { class: `gate-alert${fields.acknowledged ? ' is-done' : ''}` },
    h('strong', {}, t(`value.gate_alert.kind.${fields.kind}`)),
    h('span', {}, [where, fields.temperature_c ? `${fields.temperature_c} °C` : null].filter(Boolean).join(' · ')),
    fields.acknowledged ? null : h('button', {
      type: 'button',
      onclick: () => deps.queue([{ type: 'gate_alert', id: alert.id, op: 'update', base_version: alert.version ?? 0,
        fields: { acknowledged: true } }], t('gate.log.acknowledged')),
    }, t('gate.log.acknowledge')));
}

function hourTable(post, hours) {
  const rows = [...hours.entries()].sort(([a], [b]) => a - b);
  return h('table', { class: 'gate-hours' },
    h('caption', {}, post),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('gate.log.hour')),
      h('th', { scope: 'col' }, t('value.gate_event.direction.in')), h('th', { scope: 'col' }, t('value.gate_event.direction.out')))),
    h('tbody', {}, ...rows.map(([hour, slot]) => h('tr', {},
      h('th', { scope: 'row' }, `${String(hour).padStart(2, '0')}:00`), h('td', {}, String(slot.in)), h('td', {}, String(slot.out))))));
}

async function render(deps) {
  const { records } = deps;
  const [events, alerts, policies] = await Promise.all([
    records.views('gate_event'), records.views('gate_alert'), records.views('gate_policy'),
  ]);
  const offset = policies[0]?.fields?.utc_offset_minutes ?? NEIGHBOURHOOD_OFFSET_MINUTES;
  const live = events.filter((e) => !e.deleted).sort((a, b) => b.fields.scanned_at.localeCompare(a.fields.scanned_at));
  const open = alerts.filter((a) => !a.deleted).sort((a, b) => Number(a.fields.acknowledged) - Number(b.fields.acknowledged) || (b.version ?? 0) - (a.version ?? 0));
  const counts = countsByHour(live, localDay(new Date(), offset), offset);
  return screen(t('section.gate_log'), { back: '/' },
    h('p', { class: 'row' }, h('a', { class: 'button', href: '#/gate/print' }, t('gate.print.title')),
      h('a', { class: 'button', href: '#/gate/policy' }, t('gate.policy.title'))),
    h('h2', {}, t('gate.log.alerts', { count: open.filter((a) => !a.fields.acknowledged).length })),
    h('ul', { class: 'gate-alerts', id: 'gate-alerts' }, ...open.map((a) => alertItem(a, deps))),
    h('h2', {}, t('gate.log.per_hour')),
    counts.size ? [...counts.entries()].map(([post, hours]) => hourTable(post, hours)) : h('p', {}, t('gate.log.none_today')),
    h('h2', {}, t('gate.log.latest')),
    h('ul', { class: 'gate-latest', id: 'gate-latest' }, ...live.slice(0, LATEST).map(({ fields }) => h('li', { class: `is-${fields.decision}` },
      [timeOf(fields.scanned_at), fields.post, t(`value.gate_event.direction.${fields.direction}`),
        t(`gate.decision.${fields.decision}`), fields.reason ? t(`gate.reason.${fields.reason}`) : null,
        fields.temperature_c ? `${fields.temperature_c} °C` : null].filter(Boolean).join(' · ')))));
}

export default { render, uses: ['records', 'queue'], follows: ['record:gate_event', 'record:gate_alert'] };
