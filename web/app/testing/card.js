/**
 * The home screen's alert: antigen-positive marks in open rounds. Marks reach
 * the device live (Socket.IO) and the home screen follows them, so a
 * coordinator sees a positive as soon as it syncs; the urgent task it made
 * is on the task board.
 */
import { t } from '../i18n.js';
import { h } from '../ui/dom.js';
import { TYPE } from './marks.js';

async function render({ records }) {
  const rounds = new Set((await records.views('test_round')).filter((r) => r.fields.status === 'open').map((r) => r.id));
  if (!rounds.size) return null;
  const positives = (await records.views(TYPE)).filter((mark) =>
    mark.fields.outcome === 'antigen_positive' && rounds.has(mark.fields.test_round_id));
  if (!positives.length) return null;
  // One read of the outbox for them all (records.view reads it for each).
  const ids = [...new Set(positives.map((mark) => mark.fields.resident_id))];
  const residents = new Map((await records.some('resident', ids)).filter(Boolean).map((resident) => [resident.id, resident]));
  return h('section', { class: 'card alert', role: 'alert', 'aria-label': t('testing.positives', { count: positives.length }) },
    h('h2', {}, t('testing.positives', { count: positives.length })),
    h('ul', {}, ...positives.map((mark) => h('li', {},
      h('a', { href: `#/testing/${encodeURIComponent(mark.fields.test_round_id)}/buildings/${encodeURIComponent(mark.fields.building_id)}` },
        residents.get(mark.fields.resident_id)?.fields.name ?? t('testing.a_resident'))))),
    h('p', {}, h('a', { href: '#/tasks' }, t('testing.see_urgent_tasks'))));
}

export default { render, uses: ['records'], follows: ['record:test_result', 'record:test_round'] };
