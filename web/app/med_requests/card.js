/**
 * The home screen's alert for coordinators and clinicians: urgent medicine
 * requests not yet at a final state (product capability 6: "urgent ones
 * alert coordinators live"). Requests reach the device live (Socket.IO) and
 * the home screen follows them. What is final comes from the declared state
 * machine.
 */
import { machineOf } from '../declarations.js';
import { t } from '../i18n.js';
import { h } from '../ui/dom.js';
import { placesOf, TYPE } from './rules.js';

const WATCHERS = new Set(['coordinator', 'clinician']);

async function render({ records, user, declarations }) {
  if (!WATCHERS.has(user.role)) return null;
  const final = new Set(machineOf(declarations, TYPE)?.final ?? []);
  const urgent = (await records.views(TYPE))
    .filter((r) => !r.deleted && r.fields.urgency === 'urgent' && !final.has(r.fields.status));
  if (!urgent.length) return null;
  const places = await placesOf(records, urgent);
  const title = t('med.urgent_open', { count: urgent.length });
  return h('section', { class: 'card alert', role: 'alert', 'aria-label': title },
    h('h2', {}, title),
    h('ul', {}, ...urgent.map((request) => h('li', {},
      h('a', { href: `#/med/${encodeURIComponent(request.id)}` },
        [request.fields.medicine, places(request)].filter(Boolean).join(' · '))))));
}

export default {
  render,
  uses: ['records', 'user', 'declarations'],
  follows: ['record:med_request', 'declarations'],
};
