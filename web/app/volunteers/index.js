/** Volunteers and shifts: sign-up, own shifts, the coordinator's duty roster; a home card. */
import card from './card.js';
import shifts from './shifts.js';

export default {
  section: 'shifts',
  home: '/shifts',
  card,
  routes: [['/shifts', shifts]],
};
