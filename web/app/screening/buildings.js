/** List the buildings of the user's scope, each with where its screening stands. */
import { naturalCompare, t } from '../i18n.js';
import { h } from '../ui/dom.js';
import { screen } from '../ui/screen.js';
import { progress, visitsByHousehold } from './walk.js';
import { progressBar } from './view.js';

async function render({ records, names }) {
  const [buildings, households, visits, compounds] = await Promise.all([
    records.views('building'), records.views('household'), records.views('visit'), names.compounds(),
  ]);
  if (!buildings.length) return screen(t('screening.title'), { back: '/' }, h('p', { class: 'empty' }, t('screening.no_buildings')));
  const byHousehold = visitsByHousehold(visits);
  const homesOf = new Map();
  for (const household of households) {
    const list = homesOf.get(household.fields.building_id) ?? [];
    list.push(household);
    homesOf.set(household.fields.building_id, list);
  }
  const sorted = [...buildings].sort((a, b) =>
    naturalCompare(compounds.get(a.fields.compound_id) ?? '', compounds.get(b.fields.compound_id) ?? '') ||
    (a.fields.number ?? 0) - (b.fields.number ?? 0));
  const several = new Set(buildings.map((b) => b.fields.compound_id)).size > 1;
  return screen(t('screening.title'), { back: '/' },
    h('ul', { class: 'cards screening-buildings' }, ...sorted.map((building) => {
      const name = several ? `${compounds.get(building.fields.compound_id) ?? ''} ${building.fields.name}` : building.fields.name;
      return h('li', { class: 'card' },
        h('a', { class: 'card-link', href: `#/screening/buildings/${encodeURIComponent(building.id)}` }, name),
        progressBar(progress(homesOf.get(building.id) ?? [], byHousehold), name));
    })));
}

export default { render, uses: ['records', 'names'], follows: ['record:visit', 'record:household', 'record:building', 'outbox'] };
