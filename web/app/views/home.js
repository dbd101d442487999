/**
 * Show the signed-in role's home: the sections that role works in.
 *
 * A section opens the feature that fills it (features.js); the others are
 * listed so the shell and its navigation are in place, marked plainly as
 * not yet available.
 */
import { countTopics, featureCards, sectionCount, sectionRoute } from '../features.js';
import { t } from '../i18n.js';
import { h } from '../ui/dom.js';
import { screen } from '../ui/screen.js';

/** Sections per role, in the order the role needs them most. */
export const ROLE_SECTIONS = Object.freeze({
  volunteer: ['tasks', 'screening', 'testing', 'orders', 'shifts', 'notices'],
  guard: ['gate', 'visitors', 'tasks', 'notices'],
  team_leader: ['supply_rounds', 'orders', 'picking', 'tasks', 'notices'],
  clinician: ['med_requests', 'tasks', 'notices', 'break_glass'],
  coordinator: ['tasks', 'board', 'progress', 'gate_log', 'conflicts', 'notices', 'exports', 'testing', 'screening', 'shifts', 'audit', 'break_glass'],
});

async function tile(section, records) {
  const label = t(`section.${section}`);
  const route = sectionRoute(section);
  if (route) {
    const count = await sectionCount(section, records);
    return h('li', {}, h('a', { class: 'tile', href: `#${route}` }, label,
      count ? h('span', { class: 'tile-count' }, t('home.waiting', { count })) : null));
  }
  return h('li', {}, h('span', { class: 'tile is-later' }, label, h('small', {}, t('home.coming_later'))));
}

async function render(deps) {
  const { user, records } = deps;
  const sections = ROLE_SECTIONS[user.role] ?? ['tasks'];
  const [cards, tiles] = await Promise.all([
    Promise.all(HOME_CARDS.map((card) => card.render(deps))),
    Promise.all(sections.map((section) => tile(section, records))),
  ]);
  return screen(t('home.title', { name: user.display_name ?? user.username }), {},
    h('p', { class: 'lead' }, t(`role.${user.role}`)),
    ...cards,
    h('nav', { 'aria-label': t('home.sections') }, h('ul', { class: 'tiles' }, ...tiles)),
    h('p', {}, h('a', { class: 'tile secondary', href: '#/settings' }, t('section.settings'))));
}

const HOME_CARDS = featureCards();
export default {
  render,
  uses: [...new Set(['user', 'records', ...HOME_CARDS.flatMap((card) => card.uses)])],
  follows: [...new Set([...countTopics(), ...HOME_CARDS.flatMap((card) => card.follows ?? [])])],
};
