/** Door-to-door screening: buildings, a building's stairwells, one household. */
import building from './building.js';
import buildings from './buildings.js';
import household from './household.js';

export default {
  section: 'screening',
  home: '/screening',
  routes: [
    ['/screening', buildings],
    ['/screening/buildings/:id', building],
    ['/screening/households/:id', household],
  ],
};
