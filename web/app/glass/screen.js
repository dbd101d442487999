/**
 * The break-the-glass screen: the grants in force (a clinician's own, a
 * coordinator's in their compounds) with an end button each, and for a
 * clinician the form that opens a compound. It needs the network: grants are
 * made and listed by the server (`/api/v1/break-glass`, server/break_glass.py).
 */
import { ApiError, NetworkError } from '../api.js';
import { formatTime, t } from '../i18n.js';
import { h } from '../ui/dom.js';
import { field, screen } from '../ui/screen.js';

/** Durations offered, in minutes: within the server's 1 to 720 (server/schemas/break_glass.py). */
export const DURATIONS = Object.freeze([30, 60, 120, 240, 480, 720]);
/** The duration chosen unless the user picks another: the server's default. */
export const DEFAULT_MINUTES = 240;
/** The reason's length the server accepts (server/schemas/break_glass.py). */
export const REASON_LENGTH = Object.freeze({ min: 3, max: 500 });

/** Return the grants still in force at `now` (ms), soonest to end first. Pure. */
export function inForce(grants, now) {
  return grants.filter((grant) => Date.parse(grant.expires_at) > now)
    .sort((a, b) => Date.parse(a.expires_at) - Date.parse(b.expires_at));
}

// A grant that runs out sends no live event: the screen redraws at the first expiry shown.
let expiryTimer = null;

function redrawAtExpiry(deps, grants, now) {
  clearTimeout(expiryTimer);
  if (grants.length) expiryTimer = setTimeout(() => deps.redraw(), Date.parse(grants[0].expires_at) - now);
}

/** Return the words for a failed request: offline, the server's problem, or the error. Pure. */
export function failure(error) {
  if (error instanceof NetworkError) return t('glass.offline');
  if (error instanceof ApiError) return error.problem.detail || error.problem.title || error.message;
  return String(error?.message ?? error);
}

/** Return a duration's label: hours when whole, minutes otherwise. Pure. */
export function durationLabel(minutes) {
  return minutes % 60 ? t('glass.minutes', { count: minutes }) : t('glass.hours', { count: minutes / 60 });
}

function grantCard(deps, grant, places) {
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const own = String(grant.user_id) === String(deps.user.id);
  async function end(event) {
    event.currentTarget.disabled = true;
    try {
      await deps.glass.end(grant.id);
      deps.toast(t('glass.ended'));
    } catch (failed) {
      error.textContent = failure(failed);
      error.hidden = false;
    }
    await deps.redraw();
  }
  return h('li', { class: 'card glass-grant', 'data-grant': grant.id },
    h('h2', {}, t('glass.grant_title', {
      name: own ? t('attention.you') : grant.username, compound: places.get(grant.compound_id) ?? grant.compound_id,
    })),
    h('p', { class: 'prewrap' }, t('glass.reason_is', { reason: grant.reason })),
    h('p', { class: 'hint' }, t('glass.until', { time: formatTime(grant.expires_at) })),
    h('button', { type: 'button', onclick: end }, t(own ? 'glass.end_own' : 'glass.end')),
    error);
}

function openForm(deps, compounds) {
  if (!compounds.length) return h('p', { class: 'empty' }, t('glass.none_to_open'));
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  async function submit(event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const button = event.currentTarget.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      await deps.glass.open(String(form.get('glass-compound')), String(form.get('glass-reason')).trim(), Number(form.get('glass-minutes')));
      event.target.reset();
      deps.toast(t('glass.opened'));
      await deps.redraw();
    } catch (failed) {
      error.textContent = failure(failed);
      error.hidden = false;
      button.disabled = false;
    }
  }
  return h('form', { class: 'glass-open', onsubmit: submit },
    h('h2', {}, t('glass.open_title')),
    field('glass-compound', t('glass.compound'), h('select', { id: 'glass-compound', name: 'glass-compound', required: true },
      ...compounds.map((compound) => h('option', { value: compound.id }, compound.name)))),
    field('glass-reason', t('glass.reason'), h('textarea', {
      id: 'glass-reason', name: 'glass-reason', required: true, minlength: REASON_LENGTH.min, maxlength: REASON_LENGTH.max, rows: 3,
    }), t('glass.reason_hint')),
    field('glass-minutes', t('glass.duration'), h('select', { id: 'glass-minutes', name: 'glass-minutes' },
      ...DURATIONS.map((minutes) => h('option', { value: minutes, selected: minutes === DEFAULT_MINUTES }, durationLabel(minutes))))),
    h('button', { type: 'submit', class: 'primary' }, t('glass.open')),
    error);
}

async function render(deps) {
  const clinician = deps.user.role !== 'coordinator';
  const body = [h('p', { class: 'lead' }, t(clinician ? 'glass.lead_clinician' : 'glass.lead_coordinator'))];
  let listed = null;
  try {
    if (navigator.onLine === false) throw new NetworkError(null);
    listed = await deps.glass.list();
  } catch (error) {
    body.push(h('p', { class: 'error', role: 'alert' }, failure(error)));
  }
  if (listed) {
    const places = new Map([...await deps.names.compounds(), ...listed.compounds.map((c) => [c.id, c.name])]);
    const now = Date.now();
    const grants = inForce(listed.grants, now);
    redrawAtExpiry(deps, grants, now);
    body.push(h('h2', {}, t('glass.in_force')), grants.length
      ? h('ul', { class: 'cards', 'aria-live': 'polite' }, ...grants.map((grant) => grantCard(deps, grant, places)))
      : h('p', { class: 'empty', 'aria-live': 'polite' }, t('glass.none_in_force')));
    if (clinician) body.push(openForm(deps, listed.compounds));
  }
  return screen(t('section.break_glass'), { back: '/' }, ...body);
}

export default {
  render,
  uses: ['user', 'names', 'glass', 'toast', 'redraw'],
  // `grants`: a live break_glass / break_glass_ended event; compounds come and go with grants.
  follows: ['grants', 'record:compound'],
};
