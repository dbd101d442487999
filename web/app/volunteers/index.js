/** Volunteers and shifts: sign-up, own shifts, the coordinator's duty roster; a home card. */
import card from './card.js';

const shifts = () => import('./shifts.js');

export default {
  section: 'shifts',
  home: '/shifts',
  card,
  routes: [['/shifts', shifts]],
};
