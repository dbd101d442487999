/**
 * Show the signed-in role's home: the sections that role works in.
 *
 * Only the task board is built so far; the other sections are listed so the
 * shell and its navigation are in place, marked plainly as not yet available.
 */
import { t } from '../i18n.js';
import { h } from '../ui/dom.js';
import { screen } from '../ui/screen.js';

/** Sections per role, in the order the role needs them most. */
export const ROLE_SECTIONS = Object.freeze({
  volunteer: ['tasks', 'screening', 'testing', 'orders'],
  guard: ['gate', 'visitors', 'tasks'],
  team_leader: ['supply_rounds', 'orders', 'picking', 'tasks'],
  clinician: ['med_requests', 'tasks'],
  coordinator: ['tasks', 'board', 'progress', 'conflicts', 'notices', 'exports'],
});

/** Sections that have a working screen, with their route. */
const BUILT = { tasks: '/tasks' };

function tile(section) {
  const label = t(`section.${section}`);
  if (BUILT[section]) {
    return h('li', {}, h('a', { class: 'tile', href: `#${BUILT[section]}` }, label));
  }
  return h('li', {}, h('span', { class: 'tile is-later' }, label, h('small', {}, t('home.coming_later'))));
}

async function render(app) {
  const { user } = app;
  const sections = ROLE_SECTIONS[user.role] ?? ['tasks'];
  return screen(t('home.title', { name: user.username }), {},
    h('p', { class: 'lead' }, t(`role.${user.role}`)),
    h('nav', { 'aria-label': t('home.sections') }, h('ul', { class: 'tiles' }, ...sections.map(tile))),
    h('p', {}, h('a', { class: 'tile secondary', href: '#/settings' }, t('section.settings'))));
}

export default { render };
