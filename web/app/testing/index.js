/** Testing rounds: the open rounds with coverage, and marking a building's residents. */
import building from './building.js';
import card from './card.js';
import rounds from './rounds.js';

export default {
  section: 'testing',
  home: '/testing',
  card,
  routes: [
    ['/testing', rounds],
    ['/testing/:round/buildings/:id', building],
  ],
};
