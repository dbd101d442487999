/** Testing rounds: the open rounds with coverage, and marking a building's residents. */
import building from './building.js';
import rounds from './rounds.js';

export default {
  section: 'testing',
  home: '/testing',
  routes: [
    ['/testing', rounds],
    ['/testing/:round/buildings/:id', building],
  ],
};
