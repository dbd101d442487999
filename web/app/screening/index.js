/** Door-to-door screening: buildings, a building's stairwells, one household. */
const building = () => import('./building.js');
const buildings = () => import('./buildings.js');
const household = () => import('./household.js');

export default {
  section: 'screening',
  home: '/screening',
  routes: [
    ['/screening', buildings],
    ['/screening/buildings/:id', building],
    ['/screening/households/:id', household],
  ],
};
