/**
 * Show the signed-in role's home: the sections that role works in.
 *
 * A section opens the feature that fills it (features.js); the others are
 * listed so the shell and its navigation are in place, marked plainly as
 * not yet available.
 */
import { featureCards, sectionRoute } from '../features.js';
import { t } from '../i18n.js';
import { h } from '../ui/dom.js';
import { screen } from '../ui/screen.js';

/** Sections per role, in the order the role needs them most. */
export const ROLE_SECTIONS = Object.freeze({
  volunteer: ['tasks', 'screening', 'testing', 'orders', 'shifts'],
  guard: ['gate', 'visitors', 'tasks'],
  team_leader: ['supply_rounds', 'orders', 'picking', 'tasks'],
  clinician: ['med_requests', 'tasks'],
  coordinator: ['tasks', 'board', 'progress', 'gate_log', 'conflicts', 'notices', 'exports', 'testing', 'screening', 'shifts'],
});

function tile(section) {
  const label = t(`section.${section}`);
  const route = sectionRoute(section);
  if (route) {
    return h('li', {}, h('a', { class: 'tile', href: `#${route}` }, label));
  }
  return h('li', {}, h('span', { class: 'tile is-later' }, label, h('small', {}, t('home.coming_later'))));
}

async function render(deps) {
  const { user } = deps;
  const sections = ROLE_SECTIONS[user.role] ?? ['tasks'];
  const cards = await Promise.all(HOME_CARDS.map((card) => card.render(deps)));
  return screen(t('home.title', { name: user.display_name ?? user.username }), {},
    h('p', { class: 'lead' }, t(`role.${user.role}`)),
    ...cards,
    h('nav', { 'aria-label': t('home.sections') }, h('ul', { class: 'tiles' }, ...sections.map(tile))),
    h('p', {}, h('a', { class: 'tile secondary', href: '#/settings' }, t('section.settings'))));
}

const HOME_CARDS = featureCards();
export default {
  render,
  uses: [...new Set(['user', ...HOME_CARDS.flatMap((card) => card.uses)])],
  follows: [...new Set(HOME_CARDS.flatMap((card) => card.follows ?? []))],
};
