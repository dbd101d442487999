/** Testing rounds: the open rounds with coverage, and marking a building's residents. */
import card from './card.js';

const building = () => import('./building.js');
const rounds = () => import('./rounds.js');

export default {
  section: 'testing',
  home: '/testing',
  card,
  routes: [
    ['/testing', rounds],
    ['/testing/:round/buildings/:id', building],
  ],
};
